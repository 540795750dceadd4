#!/usr/bin/env node
// Crash rounds: ingests transfers over HTTP into the built app while killing it with SIGKILL at
// random moments, restarting it each time; the client re-sends every batch that was not
// acknowledged, with the same ids. Then `main.js verify` must pass and every transfer must be
// stored exactly once and applied exactly once by the ledger and analytics.
//   npm run test:faults -- [--transfers 100000] [--rounds 20] [--batch 500] [--concurrency 4]
//                          [--accounts 1000] [--seed N] [--keep-database]
// Needs the built app (npx nx run api:build) and the test PostgreSQL (TEST_DATABASE_URL).
// Exit 0 when nothing was lost or duplicated and the invariants hold; 1 otherwise.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  assertBuilt, createDatabase, freePort, parsePositive, ROOT, seededRandom, sleep, startApp, transferAt, verify, waitForHealth,
} from './app-process.mjs';

const { values: args } = parseArgs({
  options: {
    transfers: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '20' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '4' },
    accounts: { type: 'string', default: '1000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'keep-database': { type: 'boolean', default: false },
  },
});
const { transfers: total, rounds, batch: batchSize, concurrency, accounts } = parsePositive(args, ['transfers', 'rounds', 'batch', 'concurrency', 'accounts']);
const seed = Number(args.seed);
assertBuilt();

const random = seededRandom(seed);
const prefix = `crash-${seed}`;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logFile = resolve(ROOT, 'tmp/faults', `crash-rounds-${stamp}.log`);
const database = await createDatabase('faults');
const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
const env = { DATABASE_URL: database.url, PORT: String(port), ADMIN_TOKEN: randomBytes(16).toString('hex'), SHUTDOWN_TIMEOUT_MS: '10000' };
const started = Date.now();
console.log(`crash rounds: ${total} transfers in batches of ${batchSize} (${concurrency} at a time), ${rounds} SIGKILL rounds, seed ${seed}`);
console.log(`database ${database.name}, app log ${logFile}`);

// --- the client: every batch is sent until it is acknowledged (201), with the same ids ---
const batches = Math.ceil(total / batchSize);
const queue = Array.from({ length: batches }, (_, i) => i);
const attempts = new Uint16Array(batches);
let ackedTransfers = 0;
let ackedBatches = 0;
const client = { accepted: 0, replayed: 0, resent: 0, unacknowledged: 0, refused: 0, resentBatches: 0 };
const fatal = [];

function bodyOf(index) {
  const items = [];
  for (let i = index * batchSize; i < Math.min(total, (index + 1) * batchSize); i++) items.push(transferAt(prefix, i, accounts, seed));
  return { count: items.length, json: JSON.stringify({ transfers: items }) };
}

async function worker() {
  while (ackedBatches < batches && fatal.length === 0) {
    const index = queue.shift();
    if (index === undefined) {
      await sleep(20);
      continue;
    }
    const { count, json } = bodyOf(index);
    if (attempts[index] > 0) client.resent += 1;
    if (attempts[index] === 1) client.resentBatches += 1;
    attempts[index] += 1;
    let status;
    let reply;
    try {
      const response = await fetch(`${baseUrl}/transfers/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: json,
        signal: AbortSignal.timeout(60_000),
      });
      status = response.status;
      reply = await response.text();
    } catch (error) {
      const code = error?.cause?.code ?? error?.code;
      if (code === 'ECONNREFUSED') client.refused += 1;
      else client.unacknowledged += 1;
      queue.unshift(index);
      await sleep(code === 'ECONNREFUSED' ? 50 : 10);
      continue;
    }
    if (status === 201) {
      const result = JSON.parse(reply);
      client.accepted += result.accepted;
      client.replayed += result.replayed;
      ackedTransfers += count;
      ackedBatches += 1;
    } else if (status >= 500 || status === 429) {
      // 503 while closing, or a request cut by the kill: not acknowledged, so sent again.
      client.unacknowledged += 1;
      queue.unshift(index);
      await sleep(20);
    } else {
      fatal.push(`batch ${index} got HTTP ${status}: ${reply.slice(0, 300)}`);
    }
  }
}

// --- the killer ---
const roundLog = [];
const workers = Array.from({ length: concurrency }, worker);
let failure;
try {
  for (let round = 1; round <= rounds && fatal.length === 0; round++) {
    const app = await startApp(env, logFile);
    const up = Date.now();
    // Each round ends once a random share of the remaining work has been acknowledged, so the
    // kills spread over the whole ingestion (and the drain after it). A quarter of the rounds
    // also end at a random time up to 6 s after spawn if that comes first: during start-up,
    // migrations, the relay catching up, or mid-ingestion.
    const byTime = random() < 0.25;
    const remaining = total - ackedTransfers;
    const target = Math.min(total, ackedTransfers + Math.max(1, Math.round(((0.3 + 1.4 * random()) * remaining) / (rounds - round + 1.5))));
    const timeLimit = byTime ? Date.now() + Math.floor(random() * 6000) : Infinity;
    if (!byTime) await waitForHealth(app, 90_000);
    const deadline = Math.min(timeLimit, Date.now() + 15_000);
    while (ackedTransfers < target && Date.now() < deadline && fatal.length === 0) await sleep(5);
    if (!byTime) await sleep(Math.floor(random() * 100));
    const ackedAtKill = ackedTransfers;
    app.child.kill('SIGKILL');
    const exit = await app.exited;
    roundLog.push({ round, mode: byTime ? 'time' : 'progress', upMs: Date.now() - up, ackedAtKill, exit: exit.signal ?? exit.code });
    process.stdout.write(`round ${String(round).padStart(2)}: killed after ${String(Date.now() - up).padStart(5)} ms (${byTime ? 'random time' : 'by progress'}), ${ackedAtKill}/${total} acknowledged\n`);
  }
  // The last start: no more kills; the client finishes and the pipeline drains.
  const app = await startApp(env, logFile);
  await waitForHealth(app, 90_000);
  await Promise.all(workers);
  if (fatal.length > 0) throw new Error(fatal.join('\n'));
  const ingestSeconds = (Date.now() - started) / 1000;
  console.log(`all ${total} transfers acknowledged after ${ingestSeconds.toFixed(1)} s; waiting for the pipeline to drain, then main.js verify`);
  const check = verify(env, 600_000);
  const counts = await countRows(database.url);
  app.child.kill('SIGTERM');
  const exit = await app.exited;
  report({ check, counts, shutdown: exit, ingestSeconds });
} catch (error) {
  failure = error;
} finally {
  if (failure) {
    console.error(`FAILED: ${failure.message}`);
    process.exitCode = 1;
  }
  if (!args['keep-database']) await database.drop().catch((error) => console.error(`could not drop ${database.name}: ${error.message}`));
}

async function countRows(url) {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  const one = async (text, values) => (await sql.query(text, values)).rows[0];
  try {
    const rows = await sql.query('SELECT id, from_account, to_account, amount::text, currency, occurred_at FROM ingestion.transfers');
    const stored = new Map();
    let duplicateIds = 0;
    let differing = 0;
    for (const row of rows.rows) {
      if (stored.has(row.id)) duplicateIds += 1;
      stored.set(row.id, row);
    }
    let missing = 0;
    for (let i = 0; i < total; i++) {
      const expected = transferAt(prefix, i, accounts, seed);
      const row = stored.get(expected.id);
      if (!row) missing += 1;
      else if (row.from_account !== expected.from || row.to_account !== expected.to || row.amount !== expected.amount ||
        row.currency.trim() !== expected.currency || row.occurred_at.toISOString() !== expected.occurredAt) differing += 1;
    }
    const ledger = await one(
      `SELECT count(*) FILTER (WHERE n = 2)::int AS applied, count(*) FILTER (WHERE n > 2)::int AS twice, count(*) FILTER (WHERE n < 2)::int AS partial
         FROM (SELECT transfer_id, count(*) AS n FROM ledger.entries GROUP BY transfer_id) per_transfer`,
    );
    const unapplied = await one(
      'SELECT count(*)::int AS n FROM ingestion.transfers t WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e WHERE e.transfer_id = t.id)',
    );
    const analytics = await one('SELECT coalesce(sum(count), 0)::int AS counted FROM analytics.hourly');
    const messaging = await one(
      'SELECT (SELECT count(*) FROM messaging.outbox)::int AS outbox, (SELECT count(*) FROM messaging.retries)::int AS retries, (SELECT count(*) FROM messaging.dead_letters)::int AS dead',
    );
    return { rows: rows.rowCount, extra: rows.rowCount - (total - missing), duplicateIds, differing, missing, ledger, unapplied: unapplied.n, analytics: analytics.counted, messaging };
  } finally {
    await sql.end();
  }
}

function report({ check, counts, shutdown, ingestSeconds }) {
  const lost = counts.missing + counts.unapplied + counts.ledger.partial + Math.max(0, total - counts.analytics);
  const duplicated = counts.duplicateIds + counts.ledger.twice + Math.max(0, counts.analytics - total) + counts.extra;
  const problems = [];
  if (!check.ok) problems.push('main.js verify failed');
  if (lost > 0) problems.push(`${lost} lost`);
  if (duplicated > 0) problems.push(`${duplicated} duplicated`);
  if (counts.differing > 0) problems.push(`${counts.differing} stored with other content`);
  // Each batch is acknowledged once; a batch whose commit landed before the kill cut its answer
  // comes back as replayed when it is sent again, so accepted + replayed covers every transfer once.
  if (client.accepted + client.replayed !== total) problems.push(`the client saw ${client.accepted} accepted + ${client.replayed} replayed, expected ${total}`);
  if (counts.messaging.dead > 0) problems.push(`${counts.messaging.dead} dead letters`);
  if (shutdown.code !== 0) problems.push(`the last app did not shut down cleanly (exit ${shutdown.code ?? shutdown.signal})`);
  const byTime = roundLog.filter((round) => round.mode === 'time').length;
  console.log('');
  console.log(check.output.split('\n').filter((line) => !line.startsWith('{')).join('\n'));
  console.log('');
  console.log('crash rounds summary');
  console.log(`  rounds:       ${roundLog.length} SIGKILLs (${byTime} at a random time from spawn, ${roundLog.length - byTime} by ingestion progress)`);
  console.log(`  transfers:    ${total} sent, ${counts.rows} stored, ${counts.ledger.applied} applied by the ledger, ${counts.analytics} counted by analytics`);
  console.log(`  retries:      ${client.resent} re-sent requests (${client.resentBatches} batches sent more than once; ${client.unacknowledged} unacknowledged, ${client.refused} refused while down)`);
  console.log(`  acknowledged: ${client.accepted} accepted + ${client.replayed} replayed (stored before a kill cut the answer, so replayed when re-sent)`);
  console.log(`  lost:         ${lost}`);
  console.log(`  duplicated:   ${duplicated}`);
  console.log(`  pipeline:     ${counts.messaging.outbox} in the outbox, ${counts.messaging.retries} awaiting retry, ${counts.messaging.dead} dead letters`);
  console.log(`  time:         ${ingestSeconds.toFixed(1)} s to acknowledge everything, ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  console.log(problems.length === 0 ? 'PASSED: lost = 0, duplicated = 0, invariants hold' : `FAILED: ${problems.join('; ')}`);
  if (problems.length > 0) process.exitCode = 1;
}

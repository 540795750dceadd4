// The fault suite's scenarios. Each starts real app processes from the built bundle, runs a load
// through them and injects its faults while the load runs; it returns the database to check, the
// process that runs the relay (to wait for the drain on), what it injected and any problem it saw
// on the way. fault-suite.mjs then waits for the drain and checks every transfer by id.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, freePort, sleep } from './app-process.mjs';
import { admin, backends, startConflictLoop, startLoad, startRedisServer, until, waitForDrain } from './fault-harness.mjs';

const BATCH = 100;
const CONCURRENCY = 2;
/** Spreads `count` transfers over about `spanMs`, so the load is still running while faults land. */
const paceFor = (count, spanMs) => Math.floor(spanMs / Math.max(1, Math.ceil(count / BATCH / CONCURRENCY)));
const CONSUMER_ONLY = { RELAY_ENABLED: 'false', DB_POOL_SIZE: '4' };

async function sharedDatabase(h, label) {
  const database = await createDatabase(label);
  h.cleanup.push(() => database.drop());
  return database;
}

/** 1. `pg_terminate_backend` on every backend of the app's database, round after round, under batch load and a 409 loop. */
async function terminateBackends(h) {
  const database = await sharedDatabase(h, 'fs_terminate');
  const app = await h.fleet.start('all-modules', { DATABASE_URL: database.url });
  const first = startLoad(app.baseUrl, h.run, { count: 1, batch: 1 });
  const firstStats = await first.done; // transfer 0 is stored: the 409 loop re-sends it with another amount
  const load = startLoad(app.baseUrl, h.run, { first: 1, count: h.transfers - 1, batch: BATCH, concurrency: CONCURRENCY, paceMs: paceFor(h.transfers, h.rounds * 700) });
  const conflicts = startConflictLoop(app.baseUrl, h.run);
  const sql = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
  await sql.connect();
  let terminated = 0;
  try {
    await sleep(300);
    for (let round = 1; round <= h.rounds; round++) {
      const { rows } = await sql.query('SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]);
      terminated += rows[0].n;
      h.log(`round ${round}/${h.rounds}: terminated ${rows[0].n} backends, ${load.stats.acknowledged}/${h.transfers - 1} acknowledged`);
      await sleep(700);
    }
  } finally {
    await sql.end();
  }
  const stats = await load.done;
  stats.accepted += firstStats.accepted;
  stats.replayed += firstStats.replayed;
  const answers = await conflicts.stop();
  const problems = [];
  const unexpected = Object.keys(answers).filter((status) => !['409', '503', '0'].includes(status));
  if (unexpected.length > 0) problems.push(`the 409 loop got ${JSON.stringify(answers)}`);
  if (!answers[409]) problems.push('the 409 loop never got a 409');
  if (Object.keys(stats.byStatus).some((status) => !['0', '503'].includes(status))) problems.push(`batch answers other than 201/503: ${JSON.stringify(stats.byStatus)}`);
  return { url: database.url, relay: app, faults: terminated, faultLabel: `${h.rounds} rounds, ${terminated} backends terminated`, load: stats, problems };
}

/** 2. Another session holds ACCESS EXCLUSIVE on ledger.balances, then on analytics.hourly, for three lock timeouts each. */
async function lockedTable(h) {
  const lockTimeoutMs = 1000;
  const database = await sharedDatabase(h, 'fs_lock');
  const app = await h.fleet.start('all-modules', { DATABASE_URL: database.url, DB_LOCK_TIMEOUT_MS: String(lockTimeoutMs) });
  const tables = ['ledger.balances', 'analytics.hourly'];
  const load = startLoad(app.baseUrl, h.run, { count: h.transfers, batch: BATCH, concurrency: CONCURRENCY, paceMs: paceFor(h.transfers, tables.length * 4 * lockTimeoutMs) });
  const locker = new pg.Client({ connectionString: database.url, application_name: 'fault-suite-locker' });
  await locker.connect();
  const problems = [];
  let busyAnswers = 0;
  try {
    for (const table of tables) {
      await sleep(500);
      await locker.query(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      const lockedAt = Date.now();
      // A read of the locked table must be refused in time (503), not wait for the lock.
      if (table === 'ledger.balances') {
        const response = await fetch(`${app.baseUrl}/accounts/acc-1/balances`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
        if (response?.status === 503) busyAnswers += 1;
        else problems.push(`GET balances while ${table} was locked answered ${response?.status ?? 'nothing'}, expected 503`);
      }
      await sleep(Math.max(0, 3 * lockTimeoutMs - (Date.now() - lockedAt)));
      await locker.query('ROLLBACK');
      h.log(`held ACCESS EXCLUSIVE on ${table} for ${Date.now() - lockedAt} ms; ${load.stats.acknowledged}/${h.transfers} acknowledged`);
    }
  } finally {
    await locker.end();
  }
  const stats = await load.done;
  return { url: database.url, relay: app, faults: tables.length, faultLabel: `${tables.length} tables locked 3 s (lock timeout 1 s), ${busyAnswers} reads got 503`, load: stats, problems };
}

/**
 * 3. A hung handler, without code hooks: SIGSTOP of the PostgreSQL backend serving a messaging
 * transaction, for twice HANDLER_TIMEOUT_MS, then SIGCONT. Only ever on a private server (the
 * app's embedded PostgreSQL on a port of its own): backends of the shared server are never signalled.
 */
async function hungHandler(h) {
  const handlerTimeoutMs = 2000;
  const dir = mkdtempSync(join(tmpdir(), 'modulith-fault-pg-'));
  chmodSync(dir, 0o755); // the server runs as user postgres, which must reach its data folder
  const port = await freePort();
  if (port === 5432) throw new Error('refusing to signal backends of a server on 5432');
  h.cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const app = await h.fleet.start('all-modules (embedded PostgreSQL)', { DATA_DIR: dir, EMBEDDED_PG_PORT: String(port), HANDLER_TIMEOUT_MS: String(handlerTimeoutMs) });
  const rounds = Math.max(2, Math.min(h.rounds, 4));
  const load = startLoad(app.baseUrl, h.run, { count: h.transfers, batch: BATCH, concurrency: CONCURRENCY, paceMs: paceFor(h.transfers, rounds * 3 * handlerTimeoutMs) });
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  let stopped = 0;
  try {
    for (let round = 1; round <= rounds; round++) {
      const victim = await until('an active messaging transaction', async () => {
        const messaging = (await backends(sql, 'postgres')).filter((backend) => backend.application_name.endsWith('-messaging') && backend.state === 'active');
        return messaging.find((backend) => /ledger\.|analytics\.|inbox/.test(backend.query)) ?? messaging[0];
      }, 5);
      process.kill(victim.pid, 'SIGSTOP');
      stopped += 1;
      await sleep(2 * handlerTimeoutMs);
      process.kill(victim.pid, 'SIGCONT');
      h.log(`round ${round}/${rounds}: backend ${victim.pid} (${victim.query.replace(/\s+/g, ' ').slice(0, 60)}) stopped for ${2 * handlerTimeoutMs} ms; ${load.stats.acknowledged}/${h.transfers} acknowledged`);
      await sleep(500);
    }
  } finally {
    await sql.end();
  }
  const stats = await load.done;
  return { url, relay: app, faults: stopped, faultLabel: `${stopped} messaging backends SIGSTOPped for 2× HANDLER_TIMEOUT_MS (${handlerTimeoutMs} ms)`, load: stats, problems: [] };
}

/** Core (ingestion, ledger) and analytics as separate processes over a private redis-server. */
async function splitTopology(h, label, env = {}) {
  const database = await sharedDatabase(h, label);
  const redis = await startRedisServer();
  h.cleanup.push(() => redis.destroy());
  const common = { DATABASE_URL: database.url, EVENT_TRANSPORT: 'redis', REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '1000', ...env };
  const core = await h.fleet.start('core (ingestion, ledger)', { ...common, MODULES: 'ingestion,ledger' });
  const startAnalytics = () => h.fleet.start('analytics', { ...common, ...CONSUMER_ONLY, MODULES: 'analytics' });
  const analytics = await startAnalytics();
  await until('analytics to make its consumer group', async () => (await fetch(`${analytics.baseUrl}/ready`)).ok);
  return { database, redis, core, analytics, startAnalytics };
}

/** 4. Redis paused (SIGSTOP, longer than REDIS_COMMAND_TIMEOUT_MS) and restarted, rounds of both, under load. */
async function redisPausedAndRestarted(h) {
  const { database, redis, core } = await splitTopology(h, 'fs_redis');
  const rounds = Math.max(1, Math.min(h.rounds, 3));
  const load = startLoad(core.baseUrl, h.run, { count: h.transfers, batch: BATCH, concurrency: CONCURRENCY, paceMs: paceFor(h.transfers, rounds * 6000) });
  let faults = 0;
  for (let round = 1; round <= rounds; round++) {
    await sleep(500);
    redis.child.kill('SIGSTOP');
    await sleep(3000);
    redis.child.kill('SIGCONT');
    await sleep(500);
    await redis.stop();
    await sleep(1000);
    await redis.start();
    faults += 2;
    h.log(`round ${round}/${rounds}: Redis paused 3 s, then restarted; ${load.stats.acknowledged}/${h.transfers} acknowledged`);
  }
  const stats = await load.done;
  return { url: database.url, relay: core, faults, faultLabel: `${rounds} pauses of 3 s + ${rounds} restarts`, load: stats, problems: [], diagnose: () => redis.describe() };
}

/** 5. Analytics stopped while more events than REDIS_STREAM_MAXLEN are published, then started again. */
async function consumerPastStreamCap(h) {
  const maxLen = Math.max(50, Math.floor(h.transfers / 4));
  const { database, core, analytics, startAnalytics } = await splitTopology(h, 'fs_cap', { REDIS_STREAM_MAXLEN: String(maxLen) });
  await h.fleet.stop(analytics);
  const stats = await startLoad(core.baseUrl, h.run, { count: h.transfers, batch: BATCH, concurrency: CONCURRENCY }).done;
  await until('the relay to hand every transfer to Redis', async () => (await admin(core, 'pipeline')).outboxPending === 0, 250);
  h.log(`${h.transfers} transfers published while analytics was down (REDIS_STREAM_MAXLEN=${maxLen}); starting it again`);
  const restarted = await startAnalytics();
  await waitForDrain(core);
  const lost = (await admin(restarted, 'pipeline')).transportLost?.events ?? 0;
  const problems = lost > 0 ? [`analytics found ${lost} entries lost by Redis`] : [];
  return { url: database.url, relay: core, faults: 1, faultLabel: `analytics down for ${h.transfers} events, cap ${maxLen}`, load: stats, problems };
}

/** 6. POST /admin/outbox/redrive while analytics is down: every event handed out again; each applied once. */
async function redriveWhileDown(h) {
  const since = new Date(Date.now() - 1000).toISOString();
  const { database, core, analytics, startAnalytics } = await splitTopology(h, 'fs_redrive', { OUTBOX_RETENTION_HOURS: '1' });
  const half = Math.floor(h.transfers / 2);
  const before = await startLoad(core.baseUrl, h.run, { count: half, batch: BATCH, concurrency: CONCURRENCY }).done;
  await waitForDrain(core);
  await h.fleet.stop(analytics);
  const { redriven } = await admin(core, `outbox/redrive?since=${encodeURIComponent(since)}`, 'POST');
  h.log(`analytics down; re-drove ${redriven} events; ingesting ${h.transfers - half} more`);
  const after = await startLoad(core.baseUrl, h.run, { first: half, count: h.transfers - half, batch: BATCH, concurrency: CONCURRENCY }).done;
  await startAnalytics();
  const problems = redriven < half ? [`the re-drive handed out ${redriven} events, fewer than the ${half} transfers before it`] : [];
  const load = { accepted: before.accepted + after.accepted, replayed: before.replayed + after.replayed, retried: before.retried + after.retried };
  return { url: database.url, relay: core, faults: 1, faultLabel: `1 re-drive of ${redriven} events while analytics was down`, load, problems };
}

/** The scenarios, in the order the suite runs them; `name` is what `--only` takes. */
export const SCENARIOS = [
  { name: 'terminate', title: 'pg_terminate_backend rounds under load + 409 loop', run: terminateBackends },
  { name: 'lock', title: 'ACCESS EXCLUSIVE lock past the lock timeout', run: lockedTable },
  { name: 'hung-handler', title: 'messaging backend SIGSTOPped past HANDLER_TIMEOUT_MS', run: hungHandler },
  { name: 'redis', title: 'Redis paused and restarted (split topology)', run: redisPausedAndRestarted },
  { name: 'stream-cap', title: 'analytics down past REDIS_STREAM_MAXLEN', run: consumerPastStreamCap },
  { name: 'redrive', title: 'outbox re-drive while analytics is down', run: redriveWhileDown },
];

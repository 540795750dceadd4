#!/usr/bin/env node
// Sustained load: transfers offered at a fixed rate (open loop: requests leave on schedule,
// whether or not earlier ones have returned) to the built app for --minutes, sampling the app's
// resident memory, the outbox lag and request latency; then the pipeline must drain and the
// invariants hold. Without --rate it first measures the end-to-end maximum (ingest as fast as
// possible for --measure-seconds, until the pipeline has drained) and offers --fraction of it.
//   npm run test:load -- [--minutes 10] [--rate 4000] [--fraction 0.8] [--batch 100]
//                        [--sample-seconds 10] [--measure-seconds 30] [--json out.json]
// Exit 0 when no request failed, memory stayed flat, the lag stayed bounded and the invariants hold.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { assertBuilt, createDatabase, freePort, parsePositive, ROOT, sleep, startApp, transferAt, verify, waitForDrain, waitForHealth } from './app-process.mjs';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string' },
    fraction: { type: 'string', default: '0.8' },
    batch: { type: 'string', default: '100' },
    'sample-seconds': { type: 'string', default: '10' },
    'measure-seconds': { type: 'string', default: '30' },
    'max-in-flight': { type: 'string', default: '64' },
    accounts: { type: 'string', default: '5000' },
    json: { type: 'string' },
  },
});
const opts = parsePositive(args, ['minutes', 'fraction', 'batch', 'sample-seconds', 'measure-seconds', 'max-in-flight', 'accounts']);
assertBuilt();

const seed = Date.now() % 1_000_000;
const prefix = `load-${seed}`;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logFile = resolve(ROOT, 'tmp/faults', `sustained-load-${stamp}.log`);
const database = await createDatabase('load');
const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
const token = randomBytes(16).toString('hex');
const env = { DATABASE_URL: database.url, PORT: String(port), ADMIN_TOKEN: token, LOG_LEVEL: 'warn' };
const app = await startApp(env, logFile);
let next = 0;
let exitCode = 0;

const rssMiB = () => {
  const line = readFileSync(`/proc/${app.child.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
};
const pipeline = async () => (await fetch(`${baseUrl}/admin/pipeline`, { headers: { authorization: `Bearer ${token}` } })).json();
const percentile = (sorted, p) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);

async function send(count) {
  const transfers = [];
  for (let i = 0; i < count; i++) transfers.push(transferAt(prefix, next++, opts.accounts, seed));
  const started = performance.now();
  const response = await fetch(`${baseUrl}/transfers/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ transfers }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
  return performance.now() - started;
}

/** True once /admin/pipeline says `drained` twice in a row, false after `timeoutMs`. */
function drained(timeoutMs) {
  return waitForDrain(pipeline, { drained: (look) => look.drained, quietLooks: 2, timeoutMs }).then(
    () => true,
    () => false,
  );
}

/** Ingests as fast as 8 clients can for `seconds`, then waits for the drain: the end-to-end maximum. */
async function measureMaximum(seconds) {
  const started = Date.now();
  const before = next;
  const until = started + seconds * 1000;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (Date.now() < until) await send(opts.batch);
  }));
  const ingestSeconds = (Date.now() - started) / 1000;
  await drained(600_000);
  const totalSeconds = (Date.now() - started) / 1000;
  const count = next - before;
  return { count, ingestRate: count / ingestSeconds, endToEndRate: count / totalSeconds };
}

try {
  await waitForHealth(app, 90_000);
  let rate = args.rate === undefined ? undefined : Number(args.rate);
  let measured;
  if (rate === undefined) {
    console.log(`measuring the end-to-end maximum for ${opts['measure-seconds']} s (8 clients, batches of ${opts.batch})...`);
    measured = await measureMaximum(opts['measure-seconds']);
    rate = Math.round(measured.endToEndRate * opts.fraction);
    console.log(`maximum: ingest ${Math.round(measured.ingestRate)}/s, end to end (ingested and drained) ${Math.round(measured.endToEndRate)}/s; offering ${opts.fraction} of it: ${rate}/s`);
  }
  if (!(rate > 0)) throw new Error('--rate must be positive');

  const durationMs = opts.minutes * 60_000;
  const sampleMs = opts['sample-seconds'] * 1000;
  const requestsPerSecond = rate / opts.batch;
  console.log(`offering ${rate} transfers/s (${requestsPerSecond.toFixed(1)} requests/s of ${opts.batch}) for ${opts.minutes} min; app log ${logFile}`);
  const samples = [];
  const allLatencies = [];
  let windowLatencies = [];
  let inFlight = 0;
  let errors = 0;
  let skipped = 0;
  let sent = 0;
  const firstErrors = [];
  const started = Date.now();
  let due = 0; // requests that should have left by now
  const ticker = setInterval(() => {
    const elapsed = Date.now() - started;
    const target = Math.floor((elapsed / 1000) * requestsPerSecond);
    while (due < target) {
      due += 1;
      if (inFlight >= opts['max-in-flight']) {
        skipped += 1; // the app is not keeping up: the offered rate is not being met
        continue;
      }
      inFlight += 1;
      sent += 1;
      send(opts.batch)
        .then((ms) => {
          allLatencies.push(ms);
          windowLatencies.push(ms);
        })
        .catch((error) => {
          errors += 1;
          if (firstErrors.length < 5) firstErrors.push(error.message);
        })
        .finally(() => (inFlight -= 1));
    }
  }, 10);
  let lastSample = started;
  let lastSent = 0;
  while (Date.now() - started < durationMs) {
    await sleep(Math.min(sampleMs, durationMs - (Date.now() - started)));
    const now = await pipeline();
    const sorted = windowLatencies.sort((a, b) => a - b);
    windowLatencies = [];
    const sample = {
      atSeconds: Math.round((Date.now() - started) / 1000),
      transfersPerSecond: Math.round(((sent - lastSent) * opts.batch) / ((Date.now() - lastSample) / 1000)),
      p50: Math.round(percentile(sorted, 50)),
      p99: Math.round(percentile(sorted, 99)),
      rssMiB: Math.round(rssMiB()),
      outboxPending: now.outboxPending,
      lagMs: now.oldestPendingAgeMs ?? 0,
      errors,
      skipped,
    };
    lastSample = Date.now();
    lastSent = sent;
    samples.push(sample);
    console.log(
      `${String(sample.atSeconds).padStart(5)} s  ${String(sample.transfersPerSecond).padStart(6)}/s  p50 ${String(sample.p50).padStart(5)} ms  p99 ${String(sample.p99).padStart(5)} ms  ` +
        `rss ${String(sample.rssMiB).padStart(4)} MiB  outbox ${String(sample.outboxPending).padStart(6)} (lag ${sample.lagMs} ms)  errors ${errors}  skipped ${skipped}`,
    );
  }
  clearInterval(ticker);
  while (inFlight > 0) await sleep(20);
  const loadSeconds = (Date.now() - started) / 1000;
  const drainStarted = Date.now();
  const drainedInTime = await drained(300_000);
  const drainSeconds = (Date.now() - drainStarted) / 1000;
  const check = verify(env, 120_000);

  const sorted = allLatencies.sort((a, b) => a - b);
  const warm = samples[Math.min(samples.length - 1, Math.max(0, Math.floor(samples.length / 10)))];
  const last = samples.at(-1);
  const half = samples.slice(Math.floor(samples.length / 2));
  const slope = half.length > 1 ? ((half.at(-1).rssMiB - half[0].rssMiB) / (half.at(-1).atSeconds - half[0].atSeconds)) * 60 : 0;
  const result = {
    offeredRate: rate,
    achievedRate: Math.round(((sent * opts.batch) / loadSeconds)),
    batch: opts.batch,
    minutes: opts.minutes,
    measured,
    requests: sent,
    errors,
    skipped,
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
    maxMs: Math.round(sorted.at(-1) ?? 0),
    rssStartMiB: warm.rssMiB,
    rssEndMiB: last.rssMiB,
    rssMaxMiB: Math.max(...samples.map((s) => s.rssMiB)),
    rssSlopeSecondHalfMiBPerMin: Number(slope.toFixed(2)),
    maxOutboxPending: Math.max(...samples.map((s) => s.outboxPending)),
    maxLagMs: Math.max(...samples.map((s) => s.lagMs)),
    drainSeconds: Number(drainSeconds.toFixed(1)),
    invariants: check.ok,
    samples,
  };
  const problems = [];
  if (errors > 0) problems.push(`${errors} failed requests (${firstErrors.join(' | ')})`);
  if (skipped > 0) problems.push(`${skipped} requests could not leave on time (${opts['max-in-flight']} in flight): the offered rate was not sustained`);
  if (!drainedInTime) problems.push('the pipeline did not drain within 5 min after the load');
  if (!check.ok) problems.push('main.js verify failed');
  if (result.rssEndMiB > result.rssStartMiB * 1.5 + 20) problems.push(`resident memory grew from ${result.rssStartMiB} to ${result.rssEndMiB} MiB`);
  if (last.lagMs > 30_000 && last.outboxPending > 4 * (samples[Math.floor(samples.length / 2)].outboxPending + 1000)) problems.push('the outbox lag kept growing');
  console.log('');
  console.log(check.output.split('\n').filter((line) => !line.startsWith('{')).join('\n'));
  console.log('');
  console.log('| offered rate | achieved | batch | duration | p50 | p99 | max | RSS start → end (max) | RSS slope, 2nd half | max outbox lag | errors |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  console.log(
    `| ${rate}/s | ${result.achievedRate}/s | ${opts.batch} | ${opts.minutes} min | ${result.p50Ms} ms | ${result.p99Ms} ms | ${result.maxMs} ms | ` +
      `${result.rssStartMiB} → ${result.rssEndMiB} MiB (${result.rssMaxMiB}) | ${result.rssSlopeSecondHalfMiBPerMin} MiB/min | ` +
      `${result.maxLagMs} ms (${result.maxOutboxPending} events) | ${errors} |`,
  );
  console.log(`drained ${drainSeconds.toFixed(1)} s after the load stopped; ${sent} requests, ${skipped} late`);
  if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));
  console.log(problems.length === 0 ? 'PASSED: no error, memory flat, lag bounded, invariants hold' : `FAILED: ${problems.join('; ')}`);
  exitCode = problems.length === 0 ? 0 : 1;
} catch (error) {
  console.error(`FAILED: ${error.message}`);
  exitCode = 1;
} finally {
  app.child.kill('SIGTERM');
  await app.exited;
  await database.drop().catch((error) => console.error(`could not drop ${database.name}: ${error.message}`));
  process.exit(exitCode);
}

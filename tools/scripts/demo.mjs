#!/usr/bin/env node
// Drives the running app over HTTP with realistic random transfers, then waits for the pipeline
// to drain and runs the invariant check (`main.js verify`).
//   npm run demo -- --transfers 100000 [--url http://localhost:3000] [--batch 1000]
//                   [--accounts 2000] [--concurrency 4] [--seed 42] [--no-verify]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { progress } from './progress.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.APP_URL ?? `http://localhost:${process.env.PORT ?? 3000}` },
    transfers: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    accounts: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'no-verify': { type: 'boolean', default: false },
  },
});
const total = Number(args.transfers);
const batchSize = Math.min(10_000, Number(args.batch));
const accounts = Number(args.accounts);
const concurrency = Number(args.concurrency);
for (const [name, value] of Object.entries({ transfers: total, batch: batchSize, accounts, concurrency })) {
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
}

// Small, seeded PRNG (mulberry32): the same seed gives the same transfers.
let state = Number(args.seed) >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const CURRENCIES = [['EUR', 0.4], ['USD', 0.3], ['GBP', 0.15], ['JPY', 0.1], ['CHF', 0.05]];
const pickCurrency = () => {
  let r = random();
  for (const [code, weight] of CURRENCIES) if ((r -= weight) < 0) return code;
  return 'EUR';
};
const runId = `demo-${args.seed}-${Date.now().toString(36)}`;
const now = Date.now();
const transferAt = (i) => {
  const from = Math.floor(random() * accounts);
  let to = Math.floor(random() * (accounts - 1));
  if (to >= from) to += 1;
  return {
    id: `${runId}-${i}`,
    from: `acc-${from}`,
    to: `acc-${to}`,
    amount: String(Math.max(1, Math.floor(Math.exp(random() * Math.log(10_000_000))))),
    currency: pickCurrency(),
    occurredAt: new Date(now - Math.floor(random() * 7 * 24 * 3600 * 1000)).toISOString(),
  };
};

async function post(batch, attempt = 1) {
  try {
    const response = await fetch(`${args.url}/transfers/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transfers: batch }),
    });
    if (response.status !== 201) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
    return response.json();
  } catch (error) {
    // Same ids on retry: ingestion is idempotent, so a retried batch never doubles anything.
    if (attempt >= 5) throw error;
    await new Promise((r) => setTimeout(r, 200 * attempt));
    return post(batch, attempt + 1);
  }
}

const health = await fetch(`${args.url}/health`).catch(() => undefined);
if (!health?.ok) {
  console.error(`the app does not answer at ${args.url}/health: start it with "npm start" (or pass --url)`);
  process.exit(1);
}

console.log(`sending ${total.toLocaleString()} transfers to ${args.url} in batches of ${batchSize} (${concurrency} at a time, ${accounts} accounts)`);
const bar = progress('ingest', total);
const started = Date.now();
let next = 0;
let accepted = 0;
async function worker() {
  while (next < total) {
    const from = next;
    next = Math.min(total, next + batchSize);
    const batch = [];
    for (let i = from; i < next; i++) batch.push(transferAt(i));
    const result = await post(batch);
    accepted += result.accepted;
    bar.advance(batch.length);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
bar.done();
const seconds = (Date.now() - started) / 1000;
console.log(`ingested ${accepted.toLocaleString()} transfers in ${seconds.toFixed(1)} s (${Math.round(total / seconds).toLocaleString()}/s)`);

if (args['no-verify']) process.exit(0);
const main = resolve(import.meta.dirname, '../../dist/apps/api/main.js');
if (!existsSync(main)) {
  console.error(`${main} is missing: run "npx nx run api:build"`);
  process.exit(1);
}
console.log('waiting for the pipeline to drain, then checking the invariants');
const verify = spawnSync(process.execPath, [main, 'verify'], { stdio: 'inherit', env: { LOG_LEVEL: 'warn', ...process.env } });
process.exit(verify.status ?? 1);

// Shared by the fault scripts: a fresh database, the built app as a child process, its health
// and its invariant check (`main.js verify`). The database, the port, the process and the waits
// come from the test kit (@modulith/testing, TypeScript: tools' SWC hook compiles it on require).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
require('../../src/ts-hook').register();
/** @type {typeof import('../../../libs/platform/testing/src/index')} */
const kit = require('@modulith/testing');

export const { createTestDatabase: createDatabase, eventually, freePort, waitForDrain, waitForHealth } = kit;
export const ROOT = resolve(import.meta.dirname, '../../..');
export const MAIN = resolve(ROOT, 'dist/apps/api/main.js');

export function assertBuilt() {
  if (!existsSync(MAIN)) {
    console.error(`${MAIN} is missing: run "npx nx run api:build" first`);
    process.exit(2);
  }
}

/**
 * The built app as a child process, not yet waited for (`waitForHealth(app, ms)` does); its
 * output also goes to `logFile` (appended). `env.PORT` picks the port, else a free one.
 */
export function startApp(env, logFile, name = 'the app') {
  return kit.startAppProcess({ main: MAIN, name, env: { LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...env }, logFile, waitForHealth: false });
}

/** `main.js verify` against the database: waits for the pipeline to drain, then checks the invariants. */
export function verify(env, timeoutMs = 300_000) {
  const result = spawnSync(process.execPath, [MAIN, 'verify'], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'warn', VERIFY_TIMEOUT_MS: String(timeoutMs), ...env },
    encoding: 'utf8',
    timeout: timeoutMs + 60_000,
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

export const sleep = (ms) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** mulberry32: the same seed gives the same sequence. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY', 'CHF'];

/** Transfer `i` of a run: deterministic in (prefix, i, seed), so a retry sends identical content. */
export function transferAt(prefix, i, accounts, seed) {
  const random = seededRandom(seed * 1_000_003 + i);
  const from = Math.floor(random() * accounts);
  let to = Math.floor(random() * (accounts - 1));
  if (to >= from) to += 1;
  return {
    id: `${prefix}-${i}`,
    from: `acc-${from}`,
    to: `acc-${to}`,
    amount: String(1 + Math.floor(random() * 1_000_000)),
    currency: CURRENCIES[Math.floor(random() * CURRENCIES.length)],
    occurredAt: new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 72 * 3600 * 1000)).toISOString(),
  };
}

export function parsePositive(args, names) {
  const values = {};
  for (const name of names) {
    const value = Number(args[name]);
    if (!Number.isFinite(value) || value <= 0) {
      console.error(`--${name} must be a positive number, got "${args[name]}"`);
      process.exit(2);
    }
    values[name] = value;
  }
  return values;
}

// Shared by the fault scripts: a fresh database, the built app as a child process, its health
// and its invariant check (`main.js verify`).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import pg from 'pg';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const MAIN = resolve(ROOT, 'dist/apps/api/main.js');
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function assertBuilt() {
  if (!existsSync(MAIN)) {
    console.error(`${MAIN} is missing: run "npx nx run api:build" first`);
    process.exit(2);
  }
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** An empty database of its own on the test server; `drop()` removes it. */
export async function createDatabase(label) {
  const name = `modulith_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: SERVER_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The built app as a child process; its output goes to `logFile` (appended). */
export function startApp(env, logFile) {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal })));
  exited.then(() => log.end());
  return { child, exited, pid: child.pid };
}

/** Resolves once `/health` answers 200; rejects if the process exits first or time runs out. */
export async function waitForHealth(baseUrl, app, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  app.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the app exited before it was healthy (exit ${app.child.exitCode ?? app.child.signalCode})`);
    try {
      if ((await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`the app did not answer ${baseUrl}/health within ${timeoutMs} ms`);
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

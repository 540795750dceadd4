// The fault suite's harness: app processes whose exits are tracked, a load that re-sends every
// unacknowledged batch, a private redis-server, the drain wait and the exact count by transfer id.
// Spawning, health, databases and `main.js verify` come from app-process.mjs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually, freePort, sleep, startApp, transferAt, waitForDrain as drainOf, waitForHealth } from './app-process.mjs';

/** Every wait of the suite is bounded by this (ms); `FAULT_SUITE_TIMEOUT_MS`, default 180000. */
export const WAIT_MS = Number(process.env.FAULT_SUITE_TIMEOUT_MS ?? 180_000);
export const ADMIN_TOKEN = randomBytes(16).toString('hex');

/**
 * The app processes of one scenario. An exit that `stop()` did not ask for is an unexpected
 * exit; so is a stop that does not end with code 0.
 */
export class AppFleet {
  apps = [];
  unexpectedExits = [];

  constructor(logFile) {
    this.logFile = logFile;
  }

  async start(name, env) {
    const app = Object.assign(await startApp({ ADMIN_TOKEN, SHUTDOWN_TIMEOUT_MS: '15000', ...env }, this.logFile, name), { stopping: false });
    app.exited.then((exit) => {
      if (!app.stopping) this.unexpectedExits.push(`${name} (pid ${app.child.pid}) exited on its own: ${exit.signal ?? exit.code}`);
      else if (exit.code !== 0) this.unexpectedExits.push(`${name} (pid ${app.child.pid}) did not stop cleanly: ${exit.signal ?? exit.code}`);
    });
    this.apps.push(app);
    await waitForHealth(app, WAIT_MS);
    return app;
  }

  async stop(app) {
    if (app.child.exitCode !== null || app.child.signalCode !== null) return;
    app.stopping = true;
    app.child.kill('SIGTERM');
    const timer = setTimeout(() => app.child.kill('SIGKILL'), 30_000);
    await app.exited;
    clearTimeout(timer);
  }

  async stopAll() {
    await Promise.all(this.apps.map((app) => this.stop(app)));
  }
}

export async function admin(app, route, method = 'GET') {
  const response = await fetch(`${app.baseUrl}/admin/${route}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(15_000) });
  if (!response.ok) throw new Error(`${method} /admin/${route}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** Waits until the app's /admin/pipeline says `drained` three looks in a row; returns the last look. */
export async function waitForDrain(app, diagnose) {
  try {
    return await drainOf(() => admin(app, 'pipeline'), { drained: (look) => look.drained, timeoutMs: WAIT_MS, message: 'the pipeline (FAULT_SUITE_TIMEOUT_MS)' });
  } catch (error) {
    const detail = diagnose ? `\n${await diagnose().catch((failure) => failure.message)}` : '';
    throw new Error(`${error.message}${detail}`);
  }
}

/** Polls `condition` until it returns something truthy; fails naming `what` after WAIT_MS. */
export function until(what, condition, pollMs = 100) {
  return eventually(condition, { message: `${what} (FAULT_SUITE_TIMEOUT_MS)`, timeoutMs: WAIT_MS, pollMs });
}

/**
 * Posts transfers `first`..`first + count - 1` of the run in batches, re-sending each batch (same
 * ids, same content) until it is acknowledged with 201. No answer, 5xx, 408 and 429 are retried;
 * any other answer is a bug and ends the load with an error. `paceMs` spreads it over the faults.
 */
export function startLoad(baseUrl, run, { first = 0, count, batch = 100, concurrency = 2, paceMs = 0 }) {
  const stats = { accepted: 0, replayed: 0, acknowledged: 0, retried: 0, byStatus: {} };
  const queue = [];
  for (let start = first; start < first + count; start += batch) queue.push([start, Math.min(first + count, start + batch)]);
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const items = [];
      for (let i = next[0]; i < next[1]; i++) items.push(transferAt(run.prefix, i, run.accounts, run.seed));
      const body = JSON.stringify({ transfers: items });
      const deadline = Date.now() + WAIT_MS;
      for (let attempt = 0; ; attempt++) {
        if (Date.now() > deadline) throw new Error(`a batch was not acknowledged within ${WAIT_MS} ms (FAULT_SUITE_TIMEOUT_MS); answers ${JSON.stringify(stats.byStatus)}`);
        const { status, text } = await post(typeof baseUrl === 'function' ? baseUrl() : baseUrl, body);
        if (attempt > 0) stats.retried += 1;
        if (status === 201) {
          const result = JSON.parse(text);
          stats.accepted += result.accepted;
          stats.replayed += result.replayed;
          stats.acknowledged += items.length;
          break;
        }
        stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
        if (status !== 0 && status < 500 && status !== 408 && status !== 429) throw new Error(`a batch got HTTP ${status}: ${text.slice(0, 300)}`);
        await sleep(100);
      }
      if (paceMs) await sleep(paceMs);
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => stats);
  return { stats, done };
}

/**
 * Re-sends transfer `run.prefix-0` with another amount until `stop()`: each answer must be 409
 * (or 503 / no answer while the database is away). Returns the answers by status.
 */
export function startConflictLoop(baseUrl, run) {
  const taken = transferAt(run.prefix, 0, run.accounts, run.seed);
  const body = JSON.stringify({ transfers: [{ ...taken, amount: String(BigInt(taken.amount) + 1n) }] });
  const byStatus = {};
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const { status } = await post(baseUrl, body);
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      if (status !== 409) await sleep(50);
    }
  })();
  return {
    byStatus,
    async stop() {
      stopping = true;
      await loop;
      return byStatus;
    },
  };
}

async function post(baseUrl, body) {
  try {
    const response = await fetch(`${baseUrl}/transfers/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(60_000) });
    return { status: response.status, text: await response.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

/**
 * Counts, by transfer id, what each module did with transfers 0..total-1 of the run: stored
 * (with the same content), applied by the ledger (two entries each) and counted by analytics.
 */
export async function countOutcome(url, run, total) {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  const one = async (text, values) => (await sql.query(text, values)).rows[0];
  try {
    const { rows } = await sql.query('SELECT id, amount::text AS amount FROM ingestion.transfers');
    const stored = new Map(rows.map((row) => [row.id, row.amount]));
    let missing = 0;
    let differing = 0;
    for (let i = 0; i < total; i++) {
      const expected = transferAt(run.prefix, i, run.accounts, run.seed);
      if (!stored.has(expected.id)) missing += 1;
      else if (stored.get(expected.id) !== expected.amount) differing += 1;
    }
    const ledger = await one(
      `SELECT count(*) FILTER (WHERE n > 2)::int AS twice, count(*) FILTER (WHERE n < 2)::int AS partial
         FROM (SELECT transfer_id, count(*) AS n FROM ledger.entries GROUP BY transfer_id) per_transfer`,
    );
    const { n: unapplied } = await one('SELECT count(*)::int AS n FROM ingestion.transfers t WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e WHERE e.transfer_id = t.id)');
    const { counted } = await one('SELECT coalesce(sum(count), 0)::int AS counted FROM analytics.hourly');
    const { dead } = await one('SELECT count(*)::int AS dead FROM messaging.dead_letters');
    const extra = rows.length - (total - missing);
    return {
      stored: rows.length,
      lost: missing + unapplied + ledger.partial + Math.max(0, total - counted),
      doubled: ledger.twice + Math.max(0, counted - total) + Math.max(0, extra),
      differing,
      deadLetters: dead,
    };
  } finally {
    await sql.end();
  }
}

/** The server connections of the app's database, with what each is doing now. */
export async function backends(sql, database) {
  const { rows } = await sql.query(
    `SELECT pid, application_name, state, query FROM pg_stat_activity
      WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    [database],
  );
  return rows;
}

/** A `redis-server` of the suite's own (append-only), to pause with SIGSTOP and restart; needs redis-server on PATH. */
export async function startRedisServer() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'modulith-fault-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec'];
  const server = {
    url: `redis://127.0.0.1:${port}`,
    child: undefined,
    async start() {
      const child = spawn('redis-server', args, { stdio: 'ignore' });
      server.child = child;
      server.exited = new Promise((resolve) => child.once('exit', resolve));
      await until(`redis-server on port ${port}`, async () => {
        const { Redis } = await import('ioredis');
        const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        redis.on('error', () => undefined); // refused while it starts: the next look tries again
        try {
          await redis.connect();
          return (await redis.ping()) === 'PONG';
        } finally {
          redis.disconnect();
        }
      }, 50);
    },
    async stop() {
      server.child?.kill('SIGCONT');
      server.child?.kill('SIGTERM');
      await server.exited;
      server.child = undefined;
    },
    /** XINFO of every stream's consumer groups and consumers: who holds what pending. */
    async describe() {
      const { Redis } = await import('ioredis');
      const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
      try {
        const lines = [];
        for (const stream of await redis.keys('*:events:*')) {
          for (const group of await redis.call('XINFO', 'GROUPS', stream)) {
            const name = group[group.indexOf('name') + 1];
            const consumers = await redis.call('XINFO', 'CONSUMERS', stream, name);
            lines.push(`${stream} group ${name}: pending ${group[group.indexOf('pending') + 1]}, lag ${group[group.indexOf('lag') + 1]}; consumers ${consumers.map((c) => `${c[1]} pending ${c[3]} idle ${c[5]} ms`).join(', ')}`);
          }
        }
        return lines.join('\n');
      } finally {
        redis.disconnect();
      }
    },
    async destroy() {
      if (server.child) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

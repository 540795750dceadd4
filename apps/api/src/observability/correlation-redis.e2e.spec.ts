import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '@modulith/database/testing';
import { freePort } from '../testing/app-processes';

// The built bundle, run as two processes sharing one database and one Redis: ingestion in one,
// the consumers in the other. The correlation id must cross the process boundary in the envelope.
const MAIN = path.resolve(__dirname, '../../../../dist/apps/api/main.js');
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

interface AppProcess {
  child: ChildProcess;
  baseUrl: string;
  lines(): Record<string, unknown>[];
}

// A port the system just gave out, not a random one that another test's process may hold.
async function startProcess(env: NodeJS.ProcessEnv): Promise<AppProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'debug', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    lines: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await predicate()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

describe('correlation ids across processes over Redis Streams (built app)', () => {
  const prefix = `obs-e2e-${randomBytes(4).toString('hex')}`;
  let database: TestDatabase;
  let redis: Redis;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npx nx run api:build" first`);
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect().catch((error: Error) => {
      throw new Error(`this test needs Redis at ${REDIS_URL} (TEST_REDIS_URL overrides): ${error.message}`);
    });
    database = await createTestDatabase('corr_redis');
  });

  afterAll(async () => {
    for (const app of processes) app.child.kill('SIGKILL');
    const keys = await redis?.keys(`${prefix}*`);
    if (keys?.length) await redis.del(...keys);
    redis?.disconnect();
    await database?.drop();
  });

  it('logs the id of a request taken by the ingestion process in the ledger, analytics and notifications process', async () => {
    const shared = { DATABASE_URL: database.url, EVENT_TRANSPORT: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix };
    const ingestion = await startProcess({ ...shared, MODULES: 'ingestion' });
    processes.push(ingestion);
    await until(async () => (await fetch(`${ingestion.baseUrl}/ready`)).ok, 'the ingestion process to be ready').catch((error: Error) => {
      throw new Error(`${error.message}; its last log lines: ${JSON.stringify(ingestion.lines().slice(-5))}`);
    });
    const consumers = await startProcess({ ...shared, MODULES: 'ledger,analytics,notifications' });
    processes.push(consumers);
    await until(async () => (await fetch(`${consumers.baseUrl}/ready`)).ok, 'the consumer process to be ready');

    const correlationId = 'cross-process-0001';
    const response = await fetch(`${ingestion.baseUrl}/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
      body: JSON.stringify({ id: 't-x-1', from: 'alice', to: 'bob', amount: '7', currency: 'EUR', occurredAt: '2026-01-31T12:00:00Z' }),
    });
    expect(response.status).toBe(201);

    const handled = (module: string) =>
      consumers.lines().filter((line) => line['context'] === module && String(line['msg']).startsWith('handled ') && line['correlationId'] === correlationId);
    // The ledger logs twice: the transfer applied, then both postings recorded on their running statements.
    await until(() => handled('ledger').length >= 2 && handled('analytics').length === 1 && handled('notifications').length === 2, 'the consumers to log the request id');
    expect(ingestion.lines()).toContainEqual(expect.objectContaining({ msg: 'request completed', module: 'ingestion', correlationId }));
    // No module runs twice: nothing was handled in the ingestion process.
    expect(ingestion.lines().filter((line) => String(line['msg']).startsWith('handled '))).toEqual([]);

    // The broker's figures are on both processes' /metrics.
    const metrics = await (await fetch(`${consumers.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^modulith_transport_backlog_events\{transport="redis-streams"\} \d+$/m);
    const ready = (await (await fetch(`${consumers.baseUrl}/ready`)).json()) as { info: Record<string, unknown> };
    expect(ready.info.transport).toMatchObject({ status: 'up', name: 'redis-streams' });

    for (const app of processes) app.child.kill('SIGTERM');
    await Promise.all(processes.map((app) => new Promise((resolve) => (app.child.exitCode !== null ? resolve(null) : app.child.once('exit', resolve)))));
  }, 90_000);
});

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDatabase, eventually, type AppProcess, type TestDatabase } from '@modulith/testing';
import { assertBundle, startApi } from '../testing/app-processes';

// The built bundle, run as two processes sharing one database and one Redis: ingestion in one,
// the consumers in the other. The correlation id must cross the process boundary in the envelope.
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Bound of each wait below (the old fixed 30 s). */
const WAIT_MS = 30_000;

/** The JSON log lines `app` printed so far. */
const lines = (app: AppProcess): Record<string, unknown>[] =>
  app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const startProcess = (name: string, env: NodeJS.ProcessEnv) => startApi(name, { LOG_LEVEL: 'debug', ...env });

describe('correlation ids across processes over Redis Streams (built app)', () => {
  const prefix = `obs-e2e-${randomBytes(4).toString('hex')}`;
  let database: TestDatabase;
  let redis: Redis;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    assertBundle();
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
    const ingestion = await startProcess('ingestion', { ...shared, MODULES: 'ingestion' });
    processes.push(ingestion);
    await eventually(async () => (await fetch(`${ingestion.baseUrl}/ready`)).ok, {
      message: 'the ingestion process to be ready',
      timeoutMs: WAIT_MS,
      describe: () => `its last log lines: ${JSON.stringify(lines(ingestion).slice(-5))}`,
    });
    const consumers = await startProcess('consumers', { ...shared, MODULES: 'ledger,analytics,notifications' });
    processes.push(consumers);
    await eventually(async () => (await fetch(`${consumers.baseUrl}/ready`)).ok, { message: 'the consumer process to be ready', timeoutMs: WAIT_MS });

    const correlationId = 'cross-process-0001';
    const response = await fetch(`${ingestion.baseUrl}/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
      body: JSON.stringify({ id: 't-x-1', from: 'alice', to: 'bob', amount: '7', currency: 'EUR', occurredAt: '2026-01-31T12:00:00Z' }),
    });
    expect(response.status).toBe(201);

    const handled = (module: string) =>
      lines(consumers).filter((line) => line['context'] === module && String(line['msg']).startsWith('handled ') && line['correlationId'] === correlationId);
    // The ledger logs twice: the transfer applied, then both postings recorded on their running statements.
    await eventually(() => handled('ledger').length >= 2 && handled('analytics').length === 1 && handled('notifications').length === 2, {
      message: 'the consumers to log the request id',
      timeoutMs: WAIT_MS,
    });
    expect(lines(ingestion)).toContainEqual(expect.objectContaining({ msg: 'request completed', module: 'ingestion', correlationId }));
    // No module runs twice: nothing was handled in the ingestion process.
    expect(lines(ingestion).filter((line) => String(line['msg']).startsWith('handled '))).toEqual([]);

    // The broker's figures are on both processes' /metrics.
    const metrics = await (await fetch(`${consumers.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^modulith_transport_backlog_events\{transport="redis-streams"\} \d+$/m);
    const ready = (await (await fetch(`${consumers.baseUrl}/ready`)).json()) as { info: Record<string, unknown> };
    expect(ready.info.transport).toMatchObject({ status: 'up', name: 'redis-streams' });

    await Promise.all(processes.map((app) => app.stop()));
  }, 90_000);
});

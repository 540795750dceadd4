import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { TransferIngested } from '@modulith/ingestion/contracts';
import { OutboxRetention } from '@modulith/messaging/operator';
import { deleteRedisKeys, redisTestPrefix, startRedisTestServer, type RedisTestServer } from '@modulith/messaging/testing';
import { assertBundle, MAIN, runVerify, startApi, type AppProcess } from './testing/app-processes';
import { pipelineBacklog, waitForPipelineDrain, type PipelineBacklog } from './testing/pipeline-probes';
import { ingestOverHttp, makeTransfers, type TestTransfer } from './testing/transfer-load';

// Faults of the split topology over Redis Streams: a consumer killed mid-run, Redis stopped
// mid-run, a Redis that keeps nothing restarted mid-run, a stopped module behind the stream cap
// (never trimmed) and entries trimmed behind its back anyway (lost, not pending; re-driven).
// Each test has its own database and its own Redis (a key prefix on the shared one, or a redis-server of its own).
const TRANSFERS = Number(process.env['E2E_FAULT_TRANSFERS'] ?? 10_000);
const SHARED_REDIS = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const CONSUMER_ONLY = { RELAY_ENABLED: 'false', DB_POOL_SIZE: '4' };
const DRAIN_TIMEOUT_MS = Number(process.env['E2E_DRAIN_TIMEOUT_MS'] ?? 120_000);

/** `/admin/pipeline` over Redis: what waits, and what this process found lost. */
interface PipelineState extends PipelineBacklog {
  transportLost?: { events: number; streamsOrGroupsVanished: number; bestEffortEvents: number };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function chunks(transfers: TestTransfer[], count: number): TestTransfer[][] {
  const size = Math.ceil(transfers.length / count);
  return Array.from({ length: count }, (_, i) => transfers.slice(i * size, (i + 1) * size));
}

/** The pending count of the consumer a process registered in a group (consumer names carry the pid). */
async function pendingOf(redis: Redis, stream: string, group: string, pid: number): Promise<number | undefined> {
  const consumers = (await redis.call('XINFO', 'CONSUMERS', stream, group).catch(() => [])) as unknown[][];
  for (const fields of consumers) {
    const name = String(fields[fields.indexOf('name') + 1]);
    if (name.includes(`:${pid}:`)) return Number(fields[fields.indexOf('pending') + 1]);
  }
  return undefined;
}

describe(`the split topology under faults (${TRANSFERS} transfers each, real PostgreSQL and Redis)`, () => {
  let db: TestDatabase;
  let running: AppProcess[] = [];
  let servers: RedisTestServer[] = [];
  let prefix: string;

  const start = async (name: string, env: NodeJS.ProcessEnv): Promise<AppProcess> => {
    const app = await startApi(name, { DATABASE_URL: db.url, EVENT_TRANSPORT: 'redis', REDIS_KEY_PREFIX: prefix, ...env });
    running.push(app);
    return app;
  };
  /** Analytics starts (its consumer group is made) and stops: a module that is down. */
  const analyticsThenStopped = async (env: NodeJS.ProcessEnv): Promise<void> => {
    const analytics = await start('analytics', { ...env, ...CONSUMER_ONLY, MODULES: 'analytics' });
    await eventually(async () => (await fetch(`${analytics.baseUrl}/ready`)).ok, { message: 'analytics to make its consumer group', timeoutMs: DRAIN_TIMEOUT_MS });
    await analytics.stop();
    running = running.filter((app) => app !== analytics);
  };
  const pipeline = async (app: AppProcess): Promise<PipelineState> => (await pipelineBacklog(app.baseUrl)) as PipelineState;
  const transferStream = (): string => `${prefix}:events:${TransferIngested.type}`;

  beforeAll(() => assertBundle());

  beforeEach(async () => {
    db = await createTestDatabase('redis_faults');
    prefix = redisTestPrefix('faults');
  });

  afterEach(async () => {
    await Promise.all(running.map((app) => app.stop()));
    await Promise.all(servers.map((server) => server.destroy()));
    await deleteRedisKeys(SHARED_REDIS, prefix);
    running = [];
    servers = [];
    await db.drop();
  }, 60_000);

  it('SIGKILL of one of two analytics replicas mid-run: the other reclaims its pending entries and the invariants hold', async () => {
    const redis = new Redis(SHARED_REDIS);
    try {
      const env = { REDIS_URL: SHARED_REDIS, REDIS_CLAIM_IDLE_MS: '1500' };
      const core = await start('core', { ...env, MODULES: 'ingestion,ledger' });
      const [victim, survivor] = await Promise.all([
        start('analytics-1', { ...env, ...CONSUMER_ONLY, MODULES: 'analytics' }),
        start('analytics-2', { ...env, ...CONSUMER_ONLY, MODULES: 'analytics' }),
      ]);
      const ingesting = ingestOverHttp(core.baseUrl, makeTransfers(TRANSFERS, 2000, 'kill'), 250, 2);

      // Freeze the victim when it holds entries it has read but not acknowledged, then kill it.
      const stream = `${prefix}:events:${TransferIngested.type}`;
      const pid = victim.child.pid as number;
      let held = 0;
      const deadline = Date.now() + 120_000;
      while (held === 0) {
        if (Date.now() > deadline) throw new Error('analytics-1 never held pending entries');
        if (((await pendingOf(redis, stream, 'analytics', pid)) ?? 0) > 0) {
          victim.child.kill('SIGSTOP');
          held = (await pendingOf(redis, stream, 'analytics', pid)) ?? 0;
          victim.child.kill(held > 0 ? 'SIGKILL' : 'SIGCONT');
        }
        if (held === 0) await sleep(10);
      }
      await victim.exited;

      expect(await ingesting).toBe(TRANSFERS);
      await waitForPipelineDrain(core.baseUrl, 180_000);
      expect(await pendingOf(redis, stream, 'analytics', pid)).toBe(0);
      expect(survivor.output()).toContain('analytics reclaimed');
      const verify = runVerify(db.url);
      expect(verify.output).toContain('all invariants hold');
      expect(verify.status).toBe(0);
    } finally {
      redis.disconnect();
    }
  }, 300_000);

  it('Redis (append-only) stopped for seconds mid-run: ingestion keeps answering 201, events wait in the outbox, delivery resumes, invariants hold', async () => {
    const server = await startRedisTestServer({ appendOnly: true });
    servers.push(server);
    const env = { REDIS_URL: server.url };
    const core = await start('core', { ...env, MODULES: 'ingestion,ledger' });
    await start('analytics', { ...env, ...CONSUMER_ONLY, MODULES: 'analytics' });

    const parts = chunks(makeTransfers(TRANSFERS, 2000, 'outage'), 8);
    let stoppedAt = 0;
    let accepted = 0;
    for (const [index, part] of parts.entries()) {
      if (index === 3) {
        await server.stop();
        stoppedAt = Date.now();
      }
      if (index === 6) {
        await sleep(Math.max(0, 4000 - (Date.now() - stoppedAt))); // down for several seconds
        const backlog = await pipelineBacklog(core.baseUrl);
        expect(backlog.outboxPending).toBeGreaterThan(0);
        expect(backlog.transportPending).toBeNull();
        await server.start();
      }
      accepted += await ingestOverHttp(core.baseUrl, part, 500, 2); // throws on anything but 201
    }
    expect(accepted).toBe(TRANSFERS);
    await waitForPipelineDrain(core.baseUrl, 180_000);
    const verify = runVerify(db.url);
    expect(verify.output).toContain('all invariants hold');
    expect(verify.status).toBe(0);
  }, 300_000);

  it('a Redis that keeps nothing restarted mid-run loses its streams; a re-drive from the outbox retention window restores the invariants', async () => {
    const server = await startRedisTestServer({ appendOnly: false });
    servers.push(server);
    const since = new Date(Date.now() - 1000);
    const env = { REDIS_URL: server.url, OUTBOX_RETENTION_HOURS: '1' };
    const core = await start('core', { ...env, MODULES: 'ingestion,ledger' });
    const [first, second] = chunks(makeTransfers(TRANSFERS, 2000, 'amnesia'), 2);

    // Analytics is not running yet: its TransferIngested events wait in the stream...
    expect(await ingestOverHttp(core.baseUrl, first, 500, 2)).toBe(first.length);
    await waitForPipelineDrain(core.baseUrl, 120_000);
    // ... when Redis restarts empty, while the second half is being ingested.
    const ingesting = ingestOverHttp(core.baseUrl, second, 500, 2);
    await server.stop();
    await server.start();
    expect(await ingesting).toBe(second.length);
    await start('analytics', { ...env, ...CONSUMER_ONLY, MODULES: 'analytics' });
    await waitForPipelineDrain(core.baseUrl, 120_000);
    const broken = runVerify(db.url);
    expect(broken.status).toBe(1);
    expect(broken.output).toContain('FAIL');

    const dataSource = await new DataSource({ type: 'postgres', url: db.url }).initialize();
    try {
      expect(await new OutboxRetention({ dataSource }).redriveFrom(since)).toBeGreaterThanOrEqual(TRANSFERS);
    } finally {
      await dataSource.destroy();
    }
    await eventually(async () => (await pipelineBacklog(core.baseUrl)).outboxPending === 0, { message: 'the relay to take the re-driven events', timeoutMs: DRAIN_TIMEOUT_MS });
    await waitForPipelineDrain(core.baseUrl, 180_000);
    const verify = runVerify(db.url);
    expect(verify.output).toContain('all invariants hold');
    expect(verify.status).toBe(0);
  }, 300_000);

  it('REDIS_STREAM_MAXLEN=1000, analytics stopped while 5,000 transfers are ingested: after its restart every transfer is counted', async () => {
    const env = { REDIS_URL: SHARED_REDIS, REDIS_STREAM_MAXLEN: '1000' };
    const core = await start('core', { ...env, MODULES: 'ingestion,ledger' });
    await analyticsThenStopped(env);

    expect(await ingestOverHttp(core.baseUrl, makeTransfers(5000, 500, 'trim'), 500, 2)).toBe(5000);
    await eventually(async () => (await pipeline(core)).outboxPending === 0, { message: 'the relay to hand every transfer to Redis', timeoutMs: DRAIN_TIMEOUT_MS });

    const restarted = await start('analytics-again', { ...env, ...CONSUMER_ONLY, MODULES: 'analytics' });
    await waitForPipelineDrain(core.baseUrl, DRAIN_TIMEOUT_MS);
    expect((await pipeline(restarted)).transportLost?.events).toBe(0);
    const verify = runVerify(db.url);
    expect(verify.output).toContain('all invariants hold');
    expect(verify.status).toBe(0);
  }, 4 * DRAIN_TIMEOUT_MS);

  it('entries trimmed behind a stopped module’s back: logged as an error, counted, lost (not pending) on /admin/pipeline, /ready and /metrics; outbox redrive recovers them', async () => {
    const server = await startRedisTestServer();
    servers.push(server);
    const since = new Date(Date.now() - 1000).toISOString();
    const env = { REDIS_URL: server.url, OUTBOX_RETENTION_HOURS: '1' };
    const core = await start('core', { ...env, MODULES: 'ingestion,ledger' });
    await analyticsThenStopped(env);

    expect(await ingestOverHttp(core.baseUrl, makeTransfers(2000, 500, 'lost'), 500, 2)).toBe(2000);
    const redis = new Redis(server.url);
    try {
      await eventually(async () => (await redis.xlen(transferStream())) === 2000, { message: 'the relay to append every transfer', timeoutMs: DRAIN_TIMEOUT_MS });
      expect(await redis.xtrim(transferStream(), 'MAXLEN', 0)).toBe(2000);
    } finally {
      redis.disconnect();
    }

    const restarted = await start('analytics-again', { ...env, ...CONSUMER_ONLY, MODULES: 'analytics' });
    await waitForPipelineDrain(core.baseUrl, DRAIN_TIMEOUT_MS); // the lost entries are not pending for ever
    expect((await pipeline(restarted)).transportLost).toEqual({ events: 2000, streamsOrGroupsVanished: 0, bestEffortEvents: 0 });
    const ready = (await (await fetch(`${restarted.baseUrl}/ready`)).json()) as { info: { transport: { lost?: { lost: number } } } };
    expect(ready.info.transport.lost?.lost).toBe(2000);
    const metrics = await (await fetch(`${restarted.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/modulith_transport_lost_events_total\{transport="redis-streams",delivery="durable"\} 2000/);
    const errors = restarted
      .output()
      .split('\n')
      .filter((line) => line.includes('"level":50') || line.includes('"level":"error"'));
    expect(errors.some((line) => line.includes('2000 entries of') && line.includes('lost, not pending'))).toBe(true);
    expect(runVerify(db.url).status).toBe(1);

    const redrive = spawnSync(process.execPath, [MAIN, 'outbox', 'redrive', '--since', since], {
      env: { ...process.env, DATABASE_URL: db.url, EVENT_TRANSPORT: 'inprocess', RELAY_ENABLED: 'false', LOG_FORMAT: 'json', LOG_LEVEL: 'warn', DB_POOL_SIZE: '4' },
      encoding: 'utf8',
      timeout: DRAIN_TIMEOUT_MS,
    });
    expect(redrive.status).toBe(0);
    await eventually(async () => (await pipeline(core)).outboxPending === 0, { message: 'the relay to take the re-driven events', timeoutMs: DRAIN_TIMEOUT_MS });
    await waitForPipelineDrain(core.baseUrl, DRAIN_TIMEOUT_MS);
    const verify = runVerify(db.url);
    expect(verify.output).toContain('all invariants hold');
    expect(verify.status).toBe(0);
  }, 4 * DRAIN_TIMEOUT_MS);

  it('two replicas given one REDIS_CONSUMER_NAME (a copied env): each logs the clash as an error and counts it on /metrics', async () => {
    const env = {
      REDIS_URL: SHARED_REDIS,
      ...CONSUMER_ONLY,
      MODULES: 'analytics',
      REDIS_CONSUMER_NAME: 'analytics-0',
      REDIS_CONSUMER_HEARTBEAT_MS: '200',
      REDIS_CONSUMER_TTL_MS: '2000',
    };
    const first = await start('analytics-a', env);
    await eventually(async () => (await fetch(`${first.baseUrl}/ready`)).ok, { message: 'the first replica to be ready', timeoutMs: DRAIN_TIMEOUT_MS });
    const second = await start('analytics-b', env);
    for (const app of [first, second]) {
      await eventually(
        async () => /modulith_transport_consumer_name_clashes_total\{transport="redis-streams"\} [1-9]/.test(await (await fetch(`${app.baseUrl}/metrics`)).text()),
        { message: 'the clash to be counted on /metrics', timeoutMs: 30_000 },
      );
      expect(app.output()).toContain('another live process renews consumer name analytics-0');
    }
  });
});

import { Client } from 'pg';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from '@modulith/messaging/testing';
import { assertBundle, runVerify, startApi, type AppProcess } from './testing/app-processes';
import { ingestOverHttp, makeTransfers } from './testing/transfer-load';

/** Bound of each wait below (`E2E_WAIT_MS`, 30 s). */
const WAIT_MS = Number(process.env['E2E_WAIT_MS'] ?? 30_000);

// Issue 12, kind 4: no combination of MODULES, replicas, RELAY_ENABLED and transport may delete
// an event a subscriber somewhere has not handled: it works, or it refuses (start-up or /ready)
// naming the fix. Real app processes from the bundle, on one real PostgreSQL.
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
// Fast heartbeats so a newcomer is seen (and a dead row expires) within a test's patience.
const FAST = { MESSAGING_HEARTBEAT_INTERVAL_MS: '200', MESSAGING_INSTANCE_EXPIRY_MS: '2000', DB_POOL_SIZE: '6' };
const CONSUMERS = 'ledger,analytics';

describe('topologies that could lose events either work or refuse, naming the fix (real PostgreSQL, app processes)', () => {
  let db: TestDatabase;
  const running: AppProcess[] = [];
  const start = async (name: string, env: NodeJS.ProcessEnv): Promise<AppProcess> => {
    const app = await startApi(name, { DATABASE_URL: db.url, ...FAST, ...env });
    running.push(app);
    return app;
  };
  const refused = async (name: string, env: NodeJS.ProcessEnv): Promise<string> => {
    const error = await start(name, env).then(
      () => undefined,
      (failure: Error) => failure.message,
    );
    expect(error).toBeDefined();
    return error as string;
  };
  const ready = async (app: AppProcess): Promise<{ status: number; body: string }> => {
    const response = await fetch(`${app.baseUrl}/ready`);
    return { status: response.status, body: await response.text() };
  };

  beforeAll(() => assertBundle());

  beforeEach(async () => {
    db = await createTestDatabase('topology_guard');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.stop()));
    await db?.drop();
  }, 60_000);

  it('refuses a relaying MODULES=ingestion on a fresh database, before ledger or analytics ever ran (the app declares them), and loses nothing with RELAY_ENABLED=false', async () => {
    // In-process, a relaying ingestion-only process would delete every TransferIngested unseen.
    const message = await refused('ingestion', { MODULES: 'ingestion' });
    expect(message).toMatch(/does not host the durable module\(s\) analytics, ledger .*declared by this app.*eventTransport: 'redis'.*relayEnabled: false/);

    const ingestion = await start('ingestion-no-relay', { MODULES: 'ingestion', RELAY_ENABLED: 'false' });
    expect(await ingestOverHttp(ingestion.baseUrl, makeTransfers(20, 6, 'guard'))).toBe(20);
    await start('consumers', { MODULES: CONSUMERS });
    await eventually(async () => runVerify(db.url).status === 0, { message: 'verify to pass', timeoutMs: WAIT_MS, pollMs: 100 });
    expect(runVerify(db.url).output).toContain('all invariants hold');
  }, 120_000);

  it('refuses a relaying MODULES=ingestion once ledger and analytics are registered, and runs it with RELAY_ENABLED=false', async () => {
    await start('consumers', { MODULES: CONSUMERS });
    const message = await refused('ingestion', { MODULES: 'ingestion' });
    expect(message).toMatch(/does not host the durable .*eventTransport: 'redis'.*relayEnabled: false/);

    const ingestion = await start('ingestion-no-relay', { MODULES: 'ingestion', RELAY_ENABLED: 'false' });
    expect(await ingestOverHttp(ingestion.baseUrl, makeTransfers(20, 6, 'guard'))).toBe(20);
    const verify = runVerify(db.url);
    expect(verify.output).toContain('all invariants hold');
  }, 120_000);

  it('refuses a second replica of the default topology (its WebSockets would see only their own relay’s share), relaying or not', async () => {
    await start('replica-1', {});
    expect(await refused('replica-2', {})).toMatch(/best-effort subscriber\(s\) notifications\..*eventTransport: 'redis'/);
    expect(await refused('replica-2-no-relay', { RELAY_ENABLED: 'false' })).toMatch(/does not relay/);
  }, 120_000);

  it('still starts the same split over Redis Streams', async () => {
    await requireRedis(REDIS_URL);
    const prefix = redisTestPrefix('guard');
    const redis = { EVENT_TRANSPORT: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix };
    try {
      const ingestion = await start('ingestion', { ...redis, MODULES: 'ingestion' });
      await start('consumers', { ...redis, MODULES: CONSUMERS, RELAY_ENABLED: 'false' });
      await start('consumers-2', { ...redis, MODULES: `${CONSUMERS},notifications`, RELAY_ENABLED: 'false' });
      expect((await ready(ingestion)).status).toBe(200);
      expect(await refused('inprocess-stray', { MODULES: CONSUMERS })).toMatch(/same EVENT_TRANSPORT/);
    } finally {
      // Stopped first: a running consumer's next presence renewal would write its keys again.
      await Promise.all(running.splice(0).map((app) => app.stop()));
      await deleteRedisKeys(REDIS_URL, prefix);
    }
  }, 120_000);

  it('on SIGTERM with a handler stuck on a lock, exits inside SHUTDOWN_TIMEOUT_MS, naming what messaging abandoned', async () => {
    const budgetMs = 6000;
    const app = await start('stuck', { SHUTDOWN_TIMEOUT_MS: String(budgetMs), SHUTDOWN_CLOSE_RESERVE_MS: '4000', LOG_LEVEL: 'log' });
    const locker = new Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE ledger.balances IN ACCESS EXCLUSIVE MODE');
      await ingestOverHttp(app.baseUrl, makeTransfers(10, 4, 'stuck'));
      await eventually(async () => {
        const { rows } = await locker.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'ledger.balances'::regclass AND NOT granted",
        );
        return rows[0].n > 0;
      }, { message: 'a ledger transaction to wait on the lock', timeoutMs: WAIT_MS, pollMs: 100 });
      const started = Date.now();
      app.child.kill('SIGTERM');
      const code = await Promise.race([app.exited.then((exit) => exit.code), new Promise((resolve) => setTimeout(() => resolve('still running'), budgetMs + 5000))]);
      expect({ code, output: app.output().match(/abandoned[^"]*/)?.[0] }).toEqual({ code: 0, output: expect.stringContaining('ledger') });
      expect(Date.now() - started).toBeLessThan(budgetMs);
      expect(app.output()).toContain('shut down cleanly');
    } finally {
      await locker.end();
    }
  }, 120_000);
});

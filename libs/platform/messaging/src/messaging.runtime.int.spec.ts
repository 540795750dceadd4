import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { createFixtureApp } from './test-support/fixture-app';
import { FixtureControl, payloads } from './test-support/fixture-events';
import { messagingTestConfig } from './testing';

// Bound on app.close() in this test; the drain budget below is far shorter.
const CLOSE_BOUND_MS = Number(process.env['SHUTDOWN_TEST_CLOSE_BOUND_MS'] ?? 15_000);

describe('MessagingRuntime shutdown with a handler that never returns (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('runtime_shutdown');
  });

  afterAll(async () => {
    await db?.drop();
  });

  const sql = sqlOneShot(() => db.url);
  const connections = async (): Promise<string[]> =>
    (await sql<{ application_name: string }>('SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).map((row) => row.application_name);
  const sockets = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;

  it('abandons the stuck loops after MESSAGING_SHUTDOWN_TIMEOUT_MS, closes the LISTEN connection and the pool, and leaves no socket behind', async () => {
    const before = sockets();
    const control = new FixtureControl();
    // alpha's handler never returns, and holds no timer of its own (one would keep Jest alive after
    // the run); the handler timeout is far beyond the test, so only the shutdown budget can end it.
    control.hang.add('t1');
    const { app, producer } = await createFixtureApp({
      database: databaseTestConfig(db.url),
      control,
      messaging: messagingTestConfig({ shutdownTimeoutMs: 300, handlerTimeoutMs: 600_000 }),
    });
    await producer.publish(payloads(1, 3));
    await eventually(() => control.attempts.has('alpha:t1'), { message: 'alpha to be stuck in its handler' });
    expect(await connections()).toContain('modulith-relay-listener');

    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      app.close().then(() => 'closed'),
      new Promise((resolve) => (timer = setTimeout(() => resolve('still closing'), CLOSE_BOUND_MS))),
    ]);
    clearTimeout(timer);
    expect(closed).toBe('closed');
    await eventually(async () => (await connections()).length === 0, { message: 'every connection of the app to be gone', timeoutMs: 5000 });
    expect(sockets()).toBe(before);
  }, 60_000);
});

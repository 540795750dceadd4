// runSubscriberTransaction tells a handler's own failure from its timeout: whatever the handler
// throws (even `undefined`, a revoked Proxy or a HandlerTimeoutError of its own) is its failure,
// rolled back on a connection that is kept. Taken for a timeout, its connection would go back to
// the pool with the transaction still open (the next attempt's BEGIN joined it, and its COMMIT
// committed the failed attempt's writes). Real PostgreSQL.
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { HandlerTimeoutError } from '../messaging.errors';
import { runSubscriberTransaction, type SubscriberWork } from './subscriber-transaction';

const TIMEOUT_MS = 150;

describe('runSubscriberTransaction: a handler’s failure or its timeout (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('subscriber_transaction');
    // One connection: whether the attempt's connection was kept or destroyed shows in the next backend pid.
    dataSource = new DataSource({ type: 'postgres', url: db.url, extra: { max: 1 } });
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE effects (n integer NOT NULL)');
  });

  afterEach(() => dataSource.query('TRUNCATE effects'));

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const backendPid = async (): Promise<number> => (await dataSource.query('SELECT pg_backend_pid() AS pid'))[0].pid;
  const effects = async (): Promise<number> => (await dataSource.query('SELECT count(*)::int AS n FROM effects'))[0].n;
  const work = (handle: SubscriberWork<void, number>['handle']): SubscriberWork<void, number> => ({
    subscriber: 'test.subscriber',
    timeoutMs: TIMEOUT_MS,
    prepare: async () => undefined,
    handle,
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a revoked Proxy', (() => { const { proxy, revoke } = Proxy.revocable(new Error('x'), {}); revoke(); return proxy; })()],
    ['a HandlerTimeoutError of its own', new HandlerTimeoutError('not the platform’s', { subscriber: 'other', timeoutMs: 1 })],
  ])('fails a handler that throws %s as its own failure: rolled back, connection kept', async (_what, thrown) => {
    const pid = await backendPid();

    const outcome = await runSubscriberTransaction(dataSource, work(async (_prepared, manager) => {
      await manager.query('INSERT INTO effects VALUES (1)');
      throw thrown;
    }));

    // Compared by identity: matchers would read a revoked Proxy's properties.
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.timedOut).toBeFalsy();
    expect(!outcome.ok && outcome.error === thrown).toBe(true);
    expect(await effects()).toBe(0);
    expect(await backendPid()).toBe(pid);
  });

  it('fails a hung handler with a HandlerTimeoutError naming it, and destroys its connection', async () => {
    const pid = await backendPid();

    const outcome = await runSubscriberTransaction(dataSource, work(async (_prepared, manager) => {
      await manager.query('INSERT INTO effects VALUES (1)');
      return new Promise<never>(() => undefined);
    }));

    expect(outcome).toMatchObject({ ok: false, timedOut: true });
    const error = outcome.ok ? undefined : outcome.error;
    expect(error).toBeInstanceOf(HandlerTimeoutError);
    expect(error).toMatchObject({ message: `test.subscriber did not finish within ${TIMEOUT_MS} ms`, context: { subscriber: 'test.subscriber', timeoutMs: TIMEOUT_MS } });
    expect(await effects()).toBe(0);
    expect(await backendPid()).not.toBe(pid);
  });
});

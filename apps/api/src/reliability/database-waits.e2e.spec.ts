import { Client } from 'pg';
import { createTestDatabase, eventually, type AppProcess, type TestDatabase } from '@modulith/testing';
import { makeTransfers } from '../testing/transfer-load';
import { startApi } from '../testing/app-processes';
import { ingestUntilAcknowledged } from './retrying-client';

/** Longest the test's client waits for one answer; the app must answer well before (503 or not). */
const REQUEST_TIMEOUT_MS = Number(process.env['E2E_REQUEST_TIMEOUT_MS'] ?? 60_000);
const TOKEN = 'db-waits-admin-token';

interface Answer {
  status: number;
  retryAfter: string | null;
}

async function request(app: AppProcess, method: 'GET' | 'POST', route: string, body?: unknown): Promise<Answer> {
  try {
    const response = await fetch(`${app.baseUrl}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return { status: response.status, retryAfter: response.headers.get('retry-after') };
  } catch {
    return { status: 0, retryAfter: null }; // no answer within REQUEST_TIMEOUT_MS
  }
}

const busy = { status: 503, retryAfter: expect.stringMatching(/^\d+$/) };

describe('nothing waits unbounded: a locked table and a pool of two', () => {
  let database: TestDatabase;
  let locker: Client;
  let app: AppProcess;

  beforeAll(async () => {
    database = await createTestDatabase('dbwaits');
    app = await startApi('app', { LOG_LEVEL: 'log', DATABASE_URL: database.url, DB_POOL_SIZE: '2', ADMIN_TOKEN: TOKEN });
    await ingestUntilAcknowledged(() => app.baseUrl, makeTransfers(200, 20, 'before'), { batch: 100, concurrency: 1 });
    locker = new Client({ connectionString: database.url, application_name: 'db-waits-locker' });
    await locker.connect();
  }, 120_000);

  afterAll(async () => {
    await locker?.end();
    await app?.stop();
    await database?.drop();
  });

  it('requests on the locked table get 503 with retry-after, other reads are served once a connection is free, and all works after the lock', async () => {
    await locker.query('BEGIN; LOCK TABLE ingestion.transfers IN ACCESS EXCLUSIVE MODE');
    const posts = Array.from({ length: 4 }, (_, i) => request(app, 'POST', '/transfers/batch', { transfers: makeTransfers(10, 20, `locked-${i}`) }));
    const reads = Array.from({ length: 4 }, () => request(app, 'GET', '/transfers/before-1'));
    // A table nobody locked: waits only for one of the two connections, never for the lock.
    const unrelated = Array.from({ length: 4 }, () => request(app, 'GET', '/accounts/acc-1/balances'));

    expect(await Promise.all(posts)).toEqual(Array(4).fill(busy));
    expect(await Promise.all(reads)).toEqual(Array(4).fill(busy));
    for (const answer of await Promise.all(unrelated)) expect([200, 503]).toContain(answer.status);
    // The lock is still held; the connections the waits took are free again.
    expect(await request(app, 'GET', '/accounts/acc-1/balances')).toMatchObject({ status: 200 });
    expect(app.child.exitCode).toBeNull();

    await locker.query('ROLLBACK');
    expect(await request(app, 'POST', '/transfers/batch', { transfers: makeTransfers(10, 20, 'after') })).toMatchObject({ status: 201 });
    expect(await request(app, 'GET', '/transfers/before-1')).toMatchObject({ status: 200 });
    const drained = await eventually(
      async () => {
        const response = await fetch(`${app.baseUrl}/admin/pipeline`, { headers: { authorization: `Bearer ${TOKEN}` } });
        return response.ok && ((await response.json()) as { outboxPending: number }).outboxPending === 0;
      },
      { message: 'the relay to empty the outbox', timeoutMs: 60_000 },
    );
    expect(drained).toBe(true);
  }, 5 * REQUEST_TIMEOUT_MS);
});

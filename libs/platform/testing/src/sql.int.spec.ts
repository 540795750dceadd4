import type { Client } from 'pg';
import { eventually } from './eventually';
import { sqlOneShot } from './sql';
import { connectToTestServer, createTestDatabase, type TestDatabase } from './test-database';

describe('sqlOneShot (real PostgreSQL)', () => {
  let db: TestDatabase;
  let admin: Client;
  const APPLICATION = 'sql-one-shot-test';
  const connectionsLeft = async (): Promise<number> =>
    (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [db.name, APPLICATION])).rows[0].n;

  beforeAll(async () => {
    // The observer sits on the server's own database, so it is never one of the clients it counts.
    [db, admin] = await Promise.all([createTestDatabase('sql_one_shot'), connectToTestServer()]);
  });

  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  it('runs each statement on a client of its own and resolves with its rows', async () => {
    const sql = sqlOneShot(() => `${db.url}?application_name=${APPLICATION}`);
    await sql('CREATE TABLE things (n int); INSERT INTO things VALUES (1), (2)');

    expect(await sql<{ n: number }>('SELECT n FROM things WHERE n > $1 ORDER BY n', [0])).toEqual([{ n: 1 }, { n: 2 }]);
    await eventually(async () => (await connectionsLeft()) === 0, { message: 'the one-shot clients to be gone' });
  });

  it('ends its client when the statement fails, and rejects with the statement error', async () => {
    const sql = sqlOneShot(`${db.url}?application_name=${APPLICATION}`);

    await expect(sql('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    await eventually(async () => (await connectionsLeft()) === 0, { message: 'the failed one-shot client to be gone' });
  });

  it('rejects with the connection error when it cannot connect', async () => {
    await expect(sqlOneShot('postgres://postgres@127.0.0.1:1/postgres')('SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
  });
});

import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { Database } from './database';
import { DatabaseModule } from './database.module';
import type { DatabaseOptions } from './database.options';
import { runMigrations } from './migration-runner';
import type { ModuleSchema } from './module-schema';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';

/** Longer than the statement timeout the migration test sets. */
class SlowMigration0001 implements MigrationInterface {
  name = '0001-slow';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('SELECT pg_sleep(0.3)');
  }
  async down(): Promise<void> {
    // forward-only in this test
  }
}

const codeOf = (error: unknown) => (error as { code?: string; driverError?: { code?: string } }).code ?? (error as { driverError?: { code?: string } }).driverError?.code;

describe('every wait on the shared pool is bounded', () => {
  let database: TestDatabase;
  let admin: Client;
  const opened: INestApplicationContext[] = [];
  const runners: QueryRunner[] = [];

  async function open(overrides: DatabaseOptions): Promise<Database> {
    const moduleRef = await Test.createTestingModule({ imports: [DatabaseModule.forRoot({ url: database.url, migrateOnStart: false, ...overrides })] }).compile();
    opened.push(await moduleRef.init());
    return moduleRef.get(Database);
  }

  async function checkOut(db: Database): Promise<QueryRunner> {
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    runners.push(runner);
    return runner;
  }

  beforeAll(async () => {
    database = await createTestDatabase('timeouts');
    admin = new Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('CREATE TABLE locked (id int PRIMARY KEY)');
  });

  afterEach(async () => {
    await admin.query('ROLLBACK').catch(() => undefined);
    for (const runner of runners.splice(0)) await runner.release().catch(() => undefined);
    for (const app of opened.splice(0)) await app.close();
  });

  afterAll(async () => {
    await admin?.end();
    await database?.drop();
  });

  it('a pool with no free connection fails the wait after the acquire timeout, and serves again once one is free', async () => {
    const db = await open({ poolSize: 2, acquireTimeoutMs: 300 });
    const [first] = [await checkOut(db), await checkOut(db)];
    await expect(db.dataSource.query('SELECT 1')).rejects.toThrow(/timeout exceeded when trying to connect/);
    await first.release();
    await expect(db.dataSource.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });

  it('a statement waiting for a lock held by another session fails with 55P03 after the lock timeout', async () => {
    const db = await open({ lockTimeoutMs: 200 });
    await admin.query('BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE');
    const error = await db.transaction((manager) => manager.query('INSERT INTO locked VALUES (1)')).catch((caught: unknown) => caught);
    expect(codeOf(error)).toBe('55P03');
    await admin.query('ROLLBACK');
    await db.transaction((manager) => manager.query('INSERT INTO locked VALUES (1)'));
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM locked')).toEqual([{ n: 1 }]);
    await db.dataSource.query('DELETE FROM locked');
  });

  it('a statement running past the statement timeout is cancelled with 57014', async () => {
    const db = await open({ statementTimeoutMs: 200 });
    const error = await db.dataSource.query('SELECT pg_sleep(30)').catch((caught: unknown) => caught);
    expect(codeOf(error)).toBe('57014');
  });

  it('a transaction left idle past the idle-in-transaction timeout loses its session; the pool opens a new one', async () => {
    const db = await open({ idleInTransactionTimeoutMs: 200 });
    const runner = await checkOut(db);
    await runner.startTransaction();
    await runner.query('SELECT 1');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await expect(runner.query('SELECT 1')).rejects.toThrow();
    await expect(db.dataSource.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });

  it('a query with no answer within the query timeout fails, and its connection is retired rather than reused', async () => {
    const db = await open({ poolSize: 1, statementTimeoutMs: 0, queryTimeoutMs: 300 });
    const [{ pid }] = await db.dataSource.query('SELECT pg_backend_pid() AS pid');
    await expect(db.dataSource.query('SELECT pg_sleep(3)')).rejects.toThrow('Query read timeout');
    const [{ pid: next }] = await db.dataSource.query('SELECT pg_backend_pid() AS pid');
    expect(next).not.toBe(pid);
  });

  it('exposes its bounds, sets them on every connection, and a transaction can set its own with SET LOCAL', async () => {
    const db = await open({ statementTimeoutMs: 1234, lockTimeoutMs: 567 });
    expect(db.timeouts).toMatchObject({ statementTimeoutMs: 1234, lockTimeoutMs: 567, acquireTimeoutMs: 5000, idleInTransactionTimeoutMs: 60_000, queryTimeoutMs: 0 });
    expect(await db.dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '1234ms' }]);
    const local = await db.transaction(async (manager) => {
      await manager.query("SET LOCAL lock_timeout = '50ms'");
      return manager.query('SHOW lock_timeout');
    });
    expect(local).toEqual([{ lock_timeout: '50ms' }]);
    expect(await db.dataSource.query('SHOW lock_timeout')).toEqual([{ lock_timeout: '567ms' }]);
  });

  it('migrations are not bound by the request timeouts, and the connection gets its bounds back', async () => {
    const db = await open({ poolSize: 1, statementTimeoutMs: 100, lockTimeoutMs: 100 });
    const schema: ModuleSchema = { module: 'slow', schema: 'slow', entities: [], migrations: [SlowMigration0001] };
    await expect(runMigrations(db.dataSource, [schema])).resolves.toEqual([{ module: 'slow', applied: ['0001-slow'] }]);
    expect(await db.dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '100ms' }]);
  });
});

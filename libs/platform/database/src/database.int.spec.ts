import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { Database } from './database';
import { DatabaseModule } from './database.module';
import { appliedMigrations, MigrationFailedError, runMigrations } from './migration-runner';
import { defineModuleSchema } from './module-schema';
import { withTransactionHook } from './transaction-hook';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from './testing';

class CreateOrders0001 implements MigrationInterface {
  name = '0001-create-orders';
  async up(runner: QueryRunner) {
    await runner.query('CREATE TABLE orders (id int PRIMARY KEY)'); // lands in the module's schema
  }
  async down(): Promise<void> {
    // forward-only in this test
  }
}
class AddTotal0002 implements MigrationInterface {
  name = '0002-add-total';
  async up(runner: QueryRunner) {
    await runner.query('ALTER TABLE orders ADD COLUMN total int');
  }
  async down(): Promise<void> {
    // forward-only in this test
  }
}
class CreateStock0001 implements MigrationInterface {
  name = '0001-create-stock';
  async up(runner: QueryRunner) {
    await runner.query('CREATE TABLE stock (sku text PRIMARY KEY)');
  }
  async down(): Promise<void> {
    // forward-only in this test
  }
}
class Broken0003 implements MigrationInterface {
  name = '0003-broken';
  async up(runner: QueryRunner) {
    await runner.query('CREATE TABLE half_done (id int)');
    await runner.query('SELECT * FROM no_such_table');
  }
  async down(): Promise<void> {
    // forward-only in this test
  }
}

const orders = defineModuleSchema({ module: 'orders', schema: 'orders', entities: [], migrations: [CreateOrders0001, AddTotal0002] });
const stock = defineModuleSchema({ module: 'stock', schema: 'stock', entities: [], migrations: [CreateStock0001] });

@Module({ imports: [DatabaseModule.forModule(orders)] })
class OrdersModule {}
@Module({ imports: [DatabaseModule.forModule(stock)] })
class StockModule {}

describe('Database (real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let database: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    testDb = await createTestDatabase('database');
    const moduleRef = await Test.createTestingModule({
      imports: [DatabaseModule.forRoot(databaseTestConfig(testDb.url)), OrdersModule, StockModule],
    }).compile();
    const app = await moduleRef.init();
    database = app.get(Database);
    close = () => moduleRef.close();
  });

  afterAll(async () => {
    await close?.();
    await testDb?.drop();
  });

  it('discovers every module schema and applies its migrations on start', async () => {
    expect(database.schemas.map((schema) => schema.module).sort()).toEqual(['orders', 'stock']);
    expect(await appliedMigrations(database.dataSource, 'orders')).toEqual(['0001-create-orders', '0002-add-total']);
    expect(await appliedMigrations(database.dataSource, 'stock')).toEqual(['0001-create-stock']);
    const tables = await database.dataSource.query(
      `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
       WHERE table_schema IN ('orders', 'stock') ORDER BY 1`,
    );
    expect(tables.map((row: { name: string }) => row.name)).toEqual([
      'orders.orders',
      'orders.schema_migrations',
      'stock.schema_migrations',
      'stock.stock',
    ]);
  });

  it('keeps each module’s history its own and applies nothing twice', async () => {
    const again = await database.migrate();
    expect(again).toEqual([
      { module: 'orders', applied: [] },
      { module: 'stock', applied: [] },
    ]);
  });

  it('runs concurrent migrators one at a time (advisory lock)', async () => {
    const fresh = defineModuleSchema({ module: 'fresh', schema: 'fresh', entities: [], migrations: [CreateOrders0001] });
    const reports = await Promise.all([1, 2, 3].map(() => runMigrations(database.dataSource, [fresh])));
    expect(reports.flatMap((report) => report[0].applied)).toEqual(['0001-create-orders']);
  });

  it('rolls back a failing migration whole, leaving no half-applied change', async () => {
    const broken = defineModuleSchema({ module: 'orders', schema: 'orders', entities: [], migrations: [CreateOrders0001, AddTotal0002, Broken0003] });
    await expect(runMigrations(database.dataSource, [broken])).rejects.toBeInstanceOf(MigrationFailedError);
    await expect(runMigrations(database.dataSource, [broken])).rejects.toThrow(/orders\/0003-broken/);
    expect(await appliedMigrations(database.dataSource, 'orders')).toEqual(['0001-create-orders', '0002-add-total']);
    const [{ exists }] = await database.dataSource.query(`SELECT to_regclass('orders.half_done') IS NOT NULL AS exists`);
    expect(exists).toBe(false);
  });

  it('commits a unit of work together, or not at all', async () => {
    await database.transaction(async (tx) => {
      await tx.query('INSERT INTO orders.orders (id, total) VALUES (1, 10)');
      await tx.query('INSERT INTO stock.stock (sku) VALUES ($1)', ['a']);
    });
    await expect(
      database.transaction(async (tx) => {
        await tx.query('INSERT INTO orders.orders (id, total) VALUES (2, 20)');
        await tx.query('INSERT INTO stock.stock (sku) VALUES ($1)', ['a']); // duplicate key
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await database.dataSource.query('SELECT id FROM orders.orders ORDER BY id')).toEqual([{ id: 1 }]);
  });

  it('runs a scope’s hook in the first transaction started in it, and only there', async () => {
    const seen: string[] = [];
    const hook = {
      enter: async (tx: { query: (sql: string) => Promise<unknown> }) => {
        await tx.query("INSERT INTO stock.stock (sku) VALUES ('receipt')");
        seen.push('enter');
      },
      leave: async (_tx: unknown, result: unknown) => void seen.push(`leave ${String(result)}`),
    };
    const scope = withTransactionHook(hook, async () => {
      const first = await database.transaction(async (tx) => (await tx.query('INSERT INTO orders.orders (id) VALUES (30) RETURNING id'))[0].id);
      await database.transaction(async (tx) => tx.query('INSERT INTO orders.orders (id) VALUES (31)'));
      return first;
    });
    expect(await scope.result).toBe(30);
    expect(scope.hookRan()).toBe(true);
    expect(seen).toEqual(['enter', 'leave 30']);
    expect(await database.dataSource.query("SELECT count(*)::int AS n FROM stock.stock WHERE sku = 'receipt'")).toEqual([{ n: 1 }]);
  });

  it('rolls the transaction back with its work when the hook refuses it', async () => {
    const refusing = { enter: async () => Promise.reject(new Error('already applied')) };
    const scope = withTransactionHook(refusing, () => database.transaction(async (tx) => tx.query('INSERT INTO orders.orders (id) VALUES (40)')));
    await expect(scope.result).rejects.toThrow('already applied');
    expect(await database.dataSource.query('SELECT id FROM orders.orders WHERE id = 40')).toEqual([]);
    // Outside a scope nothing runs but the work.
    await database.transaction(async (tx) => tx.query('INSERT INTO orders.orders (id) VALUES (41)'));
    expect(await database.dataSource.query('SELECT id FROM orders.orders WHERE id = 41')).toEqual([{ id: 41 }]);
  });

  it('refuses a schema name that is not a plain SQL identifier', () => {
    expect(() => defineModuleSchema({ module: 'x', schema: 'x"; DROP', entities: [], migrations: [] })).toThrow(/lower-case SQL identifier/);
  });
});

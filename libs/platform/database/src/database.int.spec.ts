import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { Column, DataSource, Entity, PrimaryColumn, Repository, type MigrationInterface, type QueryRunner } from 'typeorm';
import { ConfigurationError } from '@modulith/core';
import { Database } from './database';
import { DatabaseModule } from './database.module';
import { appliedMigrations, MigrationFailedError, runMigrations } from './migration-runner';
import { defineModule, SchemaMigrationContributor, type MigrationClass, type ModuleSchema } from './module-schema';
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

const orders = defineModule({ name: 'orders', schema: 'orders', migrations: [CreateOrders0001, AddTotal0002] });
const stock = defineModule({ name: 'stock', schema: 'stock', migrations: [CreateStock0001] });

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
    const fresh: ModuleSchema = { module: 'fresh', schema: 'fresh', entities: [], migrations: [CreateOrders0001] };
    const reports = await Promise.all([1, 2, 3].map(() => runMigrations(database.dataSource, [fresh])));
    expect(reports.flatMap((report) => report[0].applied)).toEqual(['0001-create-orders']);
  });

  it('rolls back a failing migration whole, leaving no half-applied change', async () => {
    const broken: ModuleSchema = { module: 'orders', schema: 'orders', entities: [], migrations: [CreateOrders0001, AddTotal0002, Broken0003] };
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
    expect(() => defineModule({ name: 'x', schema: 'x"; DROP' })).toThrow(/lower-case SQL identifier/);
  });
});

@Entity({ schema: 'catalog', name: 'items' })
class ItemEntity {
  @PrimaryColumn('text')
  sku!: string;

  @Column('int')
  stock!: number;
}
class CreateItems0001 implements MigrationInterface {
  name = '0001-create-items';
  async up(runner: QueryRunner) {
    await runner.query('CREATE TABLE items (sku text PRIMARY KEY, stock int NOT NULL)');
  }
  async down(): Promise<void> {
    // forward-only in this test
  }
}
const catalog = defineModule({ name: 'catalog', schema: 'catalog', entities: [ItemEntity], migrations: [CreateItems0001] });

@Injectable()
class Items {
  constructor(@InjectRepository(ItemEntity) readonly repository: Repository<ItemEntity>) {}
}
@Module({ imports: [DatabaseModule.forModule(catalog)], providers: [Items] })
class CatalogModule {}

/** A module on the host's DataSource (its own schema, so the two tests above do not share migrations). */
const asyncHost = defineModule({ name: 'async_host', schema: 'async_host', migrations: [CreateItems0001] });
@Module({ imports: [DatabaseModule.forModule(asyncHost)] })
class DataSourceOwnerModule {}

const SETTINGS = Symbol('SETTINGS');
interface Settings {
  databaseUrl: string;
}

describe('DatabaseModule.forRootAsync (real PostgreSQL)', () => {
  let testDb: TestDatabase;

  beforeAll(async () => {
    testDb = await createTestDatabase('database_async');
  });

  afterAll(async () => {
    await testDb?.drop();
  });

  it('builds the one DataSource from options a factory makes of an injected provider, and closes it on shutdown', async () => {
    @Module({ providers: [{ provide: SETTINGS, useValue: { databaseUrl: testDb.url } satisfies Settings }], exports: [SETTINGS] })
    class SettingsModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        DatabaseModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SETTINGS],
          useFactory: (settings: Settings) => ({ url: settings.databaseUrl, poolSize: 3, statementTimeoutMs: 1234 }),
        }),
        CatalogModule,
      ],
    }).compile();
    const app = await moduleRef.init();
    const database = app.get(Database);
    expect(database.dataSource).toBe(app.get(DataSource));
    expect((database.dataSource.options as { extra: { max: number } }).extra.max).toBe(3);
    expect(await database.dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '1234ms' }]);
    expect(await appliedMigrations(database.dataSource, 'catalog')).toEqual(['0001-create-items']);
    const items = app.get(Items).repository;
    await items.insert({ sku: 'a', stock: 3 });
    expect(await items.findOneBy({ sku: 'a' })).toEqual({ sku: 'a', stock: 3 });
    await app.close();
    expect(app.get(DataSource).isInitialized).toBe(false);
  });

  it('with useExistingDataSource, uses the host’s DataSource and takes migrateOnStart from the factory', async () => {
    @Module({ providers: [{ provide: SETTINGS, useValue: { databaseUrl: testDb.url } satisfies Settings }], exports: [SETTINGS] })
    class SettingsModule {}
    const migrate = async (migrateOnStart: boolean) => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRootAsync({
            imports: [SettingsModule],
            inject: [SETTINGS],
            useFactory: (settings: Settings) => ({ type: 'postgres', url: settings.databaseUrl, autoLoadEntities: true, retryAttempts: 0 }),
          }),
          DatabaseModule.forRootAsync({ useExistingDataSource: true, imports: [SettingsModule], inject: [SETTINGS], useFactory: () => ({ migrateOnStart }) }),
          DataSourceOwnerModule,
        ],
      }).compile();
      const app = await moduleRef.init();
      const database = app.get(Database);
      expect(database.dataSource).toBe(app.get(DataSource));
      const [{ history }] = await database.dataSource.query(`SELECT to_regclass('async_host.schema_migrations') IS NOT NULL AS history`);
      const applied = history ? await appliedMigrations(database.dataSource, 'async_host') : 'no history';
      await app.close();
      return applied;
    };
    expect(await migrate(false)).toBe('no history');
    expect(await migrate(true)).toEqual(['0001-create-items']);
  });

  it('on a host DataSource that does not load a module’s entities, fails at start-up naming the module, the entity and autoLoadEntities', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TypeOrmModule.forRoot({ type: 'postgres', url: testDb.url, retryAttempts: 0 }), DatabaseModule.forRoot({ useExistingDataSource: true }), CatalogModule],
    }).compile();
    const failure = await moduleRef.init().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as Error).message).toMatch(/module catalog: entity ItemEntity .*autoLoadEntities: true/);
    await moduleRef.get(DataSource).destroy();
  });

  it('refuses an option out of range at start-up, naming it', async () => {
    const compiling = Test.createTestingModule({ imports: [DatabaseModule.forRoot({ url: testDb.url, poolSize: 0 })] }).compile();
    await expect(compiling).rejects.toBeInstanceOf(ConfigurationError);
    await expect(Test.createTestingModule({ imports: [DatabaseModule.forRoot({ url: testDb.url, lockTimeoutMs: -1 })] }).compile()).rejects.toThrow(/lockTimeoutMs/);
  });
});

class CreateShared0001 implements MigrationInterface {
  name = 'shared-0001';
  async up(runner: QueryRunner) {
    await runner.query('CREATE TABLE shared (id int)');
  }
  async down(): Promise<void> {
    // forward-only in this test
  }
}

/** Adds `shared-0001` to the schemas whose name starts with "with_". */
@Injectable()
class SharedTables extends SchemaMigrationContributor {
  migrationsFor(schema: ModuleSchema): MigrationClass[] {
    return schema.schema.startsWith('with_') ? [CreateShared0001] : [];
  }
}

describe('SchemaMigrationContributor (real PostgreSQL)', () => {
  let testDb: TestDatabase;

  beforeAll(async () => {
    testDb = await createTestDatabase('database_contributor');
  });

  afterAll(async () => {
    await testDb?.drop();
  });

  it('adds its migrations before a module’s own, once even when the module lists one itself, and only where it says', async () => {
    const listed = defineModule({ name: 'with_listed', schema: 'with_listed', migrations: [CreateOrders0001, CreateShared0001] });
    const unlisted = defineModule({ name: 'with_unlisted', schema: 'with_unlisted', migrations: [CreateOrders0001] });
    const other = defineModule({ name: 'other', schema: 'other', migrations: [CreateOrders0001] });
    @Module({ imports: [DatabaseModule.forModule(listed), DatabaseModule.forModule(unlisted), DatabaseModule.forModule(other)], providers: [SharedTables] })
    class Modules {}
    const moduleRef = await Test.createTestingModule({ imports: [DatabaseModule.forRoot({ url: testDb.url }), Modules] }).compile();
    const app = await moduleRef.init();
    try {
      const source = app.get(Database).dataSource;
      expect(await appliedMigrations(source, 'with_listed')).toEqual(['shared-0001', '0001-create-orders']);
      expect(await appliedMigrations(source, 'with_unlisted')).toEqual(['shared-0001', '0001-create-orders']);
      expect(await appliedMigrations(source, 'other')).toEqual(['0001-create-orders']);
      expect(app.get(Database).schemas.find((schema) => schema.module === 'with_listed')?.migrations).toEqual([CreateShared0001, CreateOrders0001]);
    } finally {
      await app.close();
    }
  });
});

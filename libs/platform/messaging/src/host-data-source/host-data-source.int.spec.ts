// The platform inside an app that made its own DataSource with TypeOrmModule.forRoot (host, port,
// user and database given one by one, not as a URL): migrations, repositories, the outbox and
// exactly-once delivery to another module all run on that DataSource. Then the same under fire:
// every backend of the database (the host's pool, messaging's pool, the LISTEN connection) is
// terminated again and again while orders are placed and delivered.
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { InjectDataSource, InjectEntityManager, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { Column, DataSource, Entity, EntityManager, PrimaryColumn, Repository, type MigrationInterface, type QueryRunner } from 'typeorm';
import { appliedMigrations, Database, DatabaseModule, defineModule } from '@modulith/database';
import { Client } from 'pg';
import { createTestDatabase, eventually, terminateBackends, type TestDatabase } from '@modulith/testing';
import { IntegrationEvent } from '../events/integration-event';
import { messagingTestConfig } from '../messaging-test-config';
import { MessagingModule } from '../messaging.module';
import { Outbox } from '../outbox/outbox';
import { OnIntegrationEvent, type DeliveryContext } from '../subscribers/on-integration-event.decorator';
import { waitForIdle } from '../testing';

class OrderPlaced extends IntegrationEvent<{ orderId: string }> {
  static readonly type = 'host.order-placed';
  static readonly version = 1;
}

@Entity({ schema: 'orders', name: 'orders' })
class OrderEntity {
  @PrimaryColumn('text')
  id!: string;

  @Column('int')
  total!: number;
}

class CreateOrders0001 implements MigrationInterface {
  readonly name = '0001-create-orders';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE orders (id text PRIMARY KEY, total int NOT NULL)');
  }
  async down(): Promise<void> {
    // dropped with the test database
  }
}

class CreateInvoices0001 implements MigrationInterface {
  readonly name = '0001-create-invoices';
  async up(runner: QueryRunner): Promise<void> {
    // No unique key: a second delivery would show as a second row.
    await runner.query('CREATE TABLE invoices (order_id text NOT NULL)');
  }
  async down(): Promise<void> {
    // dropped with the test database
  }
}

const orders = defineModule({ name: 'orders', schema: 'orders', entities: [OrderEntity], migrations: [CreateOrders0001] });
const billing = defineModule({ name: 'billing', schema: 'billing', migrations: [CreateInvoices0001] });

@Injectable()
class PlaceOrder {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
    @InjectRepository(OrderEntity) readonly orders: Repository<OrderEntity>,
    @InjectDataSource() readonly dataSource: DataSource,
    @InjectEntityManager() readonly manager: EntityManager,
  ) {}

  place(id: string, total: number): Promise<void> {
    return this.database.transaction(async (tx) => {
      await tx.getRepository(OrderEntity).insert({ id, total });
      await this.outbox.append(tx, [new OrderPlaced({ orderId: id })]);
    });
  }
}

@Module({
  imports: [MessagingModule.forModule(orders)],
  providers: [PlaceOrder],
})
class OrdersModule {}

@Injectable()
class InvoiceOrders {
  @OnIntegrationEvent(OrderPlaced)
  async onPlaced(event: OrderPlaced, { manager }: DeliveryContext): Promise<void> {
    await manager.query('INSERT INTO billing.invoices (order_id) VALUES ($1)', [event.payload.orderId]);
  }
}

@Module({
  imports: [MessagingModule.forModule(billing)],
  providers: [InvoiceOrders],
})
class BillingModule {}

/** The host's own TypeOrmModule, given host, port, user and database one by one (not as a URL). */
function hostTypeOrm(databaseUrl: string, applicationName?: string) {
  const url = new URL(databaseUrl);
  return TypeOrmModule.forRoot({
    type: 'postgres',
    host: url.hostname,
    port: Number(url.port || 5432),
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password) || undefined,
    database: url.pathname.slice(1),
    applicationName,
    autoLoadEntities: true,
    retryAttempts: 0,
  });
}

describe('on a DataSource the host application made with TypeOrmModule.forRoot', () => {
  let testDb: TestDatabase;
  let app: INestApplicationContext;
  let database: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase('host_data_source');
    const moduleRef = await Test.createTestingModule({
      imports: [
        hostTypeOrm(testDb.url),
        DatabaseModule.forRoot({ useExistingDataSource: true }),
        CqrsModule.forRoot(),
        // No polling to speak of and no LISTEN: only the wake-up on commit can deliver in time.
        MessagingModule.forRoot(messagingTestConfig({ relayPollIntervalMs: 600_000, relayListen: false })),
        OrdersModule,
        BillingModule,
      ],
    }).compile();
    moduleRef.useLogger(['error']);
    app = await moduleRef.init();
    database = app.get(Database);
  });

  afterAll(async () => {
    await app?.close();
    await testDb?.drop();
  });

  it('uses the host’s DataSource and applies each module’s migrations into its own schema', async () => {
    expect(database.dataSource).toBe(app.get(DataSource));
    expect(await appliedMigrations(database.dataSource, 'orders')).toEqual(['0001-create-orders']);
    // The inbox comes with durable subscribers (billing's), listed by no module; orders has none.
    expect(await appliedMigrations(database.dataSource, 'billing')).toEqual(['messaging-inbox-0001', '0001-create-invoices']);
    expect(await database.dataSource.query(`SELECT to_regclass('orders.inbox') IS NULL AS absent`)).toEqual([{ absent: true }]);
  });

  it('gives modules the Nest injections: repository, data source, entity manager', async () => {
    const service = app.get(PlaceOrder);
    expect(service.dataSource).toBe(database.dataSource);
    expect(service.manager).toBe(database.dataSource.manager);
    await service.orders.insert({ id: 'direct', total: 5 });
    expect(await service.orders.findOneBy({ id: 'direct' })).toEqual({ id: 'direct', total: 5 });
  });

  it('delivers an event appended in Database.transaction to a subscriber in another module, exactly once', async () => {
    await app.get(PlaceOrder).place('o-1', 10);
    const invoices = () => database.dataSource.query<{ order_id: string }[]>('SELECT order_id FROM billing.invoices');
    await eventually(async () => (await invoices()).length > 0, { timeoutMs: 10_000, message: 'the invoice' });
    // Settled: nothing left to deliver or retry, and nothing more arrives.
    await waitForIdle(app, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await invoices()).toEqual([{ order_id: 'o-1' }]);
    expect(await database.dataSource.query('SELECT count(*)::int AS n FROM billing.inbox')).toEqual([{ n: 1 }]);
  });

  it('leaves the host’s DataSource open when it shuts down: the host closes it', async () => {
    await database.onApplicationShutdown();
    expect(database.dataSource.isInitialized).toBe(true);
  });
});

const ORDERS = 120;

describe('on a host DataSource whose backends are terminated mid-delivery', () => {
  let testDb: TestDatabase;
  let app: INestApplicationContext;
  let database: Database;
  let admin: Client;

  beforeAll(async () => {
    testDb = await createTestDatabase('host_data_source_faults');
    admin = new Client({ connectionString: testDb.url, application_name: 'host-faults-admin' });
    await admin.connect();
    const moduleRef = await Test.createTestingModule({
      imports: [
        hostTypeOrm(testDb.url, 'host-app'),
        DatabaseModule.forRoot({ useExistingDataSource: true }),
        CqrsModule.forRoot(),
        MessagingModule.forRoot(messagingTestConfig({ relayPollIntervalMs: 200 })),
        OrdersModule,
        BillingModule,
      ],
    }).compile();
    moduleRef.useLogger(false);
    app = await moduleRef.init();
    database = app.get(Database);
  });

  afterAll(async () => {
    await app?.close();
    await admin?.end();
    await testDb?.drop();
  });

  const backends = async (pattern: string) =>
    (
      await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name LIKE $2`,
        [testDb.name, pattern],
      )
    ).rows[0].n;

  it('invoices every order exactly once and keeps going while the backends die', async () => {
    const place = app.get(PlaceOrder);
    let placed = 0;
    let killing = true;
    let terminated = 0;
    const killer = (async () => {
      while (killing) {
        terminated += (await terminateBackends(admin, testDb.name, { applicationName: 'host-app%' })).terminated;
        terminated += (await terminateBackends(admin, testDb.name, { applicationName: 'modulith%' })).terminated;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    for (let index = 0; index < ORDERS; index += 1) {
      // A command whose connection died fails; the host retries it (the id makes it idempotent).
      for (;;) {
        try {
          await place.place(`o-${index}`, index);
          placed += 1;
          break;
        } catch {
          const exists = await admin.query('SELECT 1 FROM orders.orders WHERE id = $1', [`o-${index}`]);
          if (exists.rowCount) {
            placed += 1;
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      if (index % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    killing = false;
    await killer;
    expect(placed).toBe(ORDERS);
    // The storm really hit: backends of both pools (and the LISTEN connection) were ended.
    expect(terminated).toBeGreaterThan(10);
    const invoiced = async () =>
      (await admin.query<{ n: number; distinct: number }>('SELECT count(*)::int AS n, count(DISTINCT order_id)::int AS distinct FROM billing.invoices')).rows[0];
    await eventually(async () => (await invoiced()).distinct === ORDERS, { timeoutMs: 60_000, message: 'every order invoiced after the kills' });
    await waitForIdle(app, { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await invoiced()).toEqual({ n: ORDERS, distinct: ORDERS });

    // Still going after the storm: a new order arrives, once.
    await place.place('after', 1);
    await eventually(async () => (await admin.query('SELECT 1 FROM billing.invoices WHERE order_id = $1', ['after'])).rowCount === 1, {
      timeoutMs: 20_000,
      message: 'an order placed after the kills',
    });
  });

  it('shuts down its loops and its own pool; the host’s DataSource stays open until the host’s own module closes it', async () => {
    const host = app.get(DataSource);
    await database.onApplicationShutdown();
    expect(host.isInitialized).toBe(true);
    await app.close();
    // Nothing of messaging stays connected or reconnects afterwards (TypeOrmModule, the host's, closed its own).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await backends('modulith%')).toBe(0);
    expect(await backends('host-app%')).toBe(0);
  });
});

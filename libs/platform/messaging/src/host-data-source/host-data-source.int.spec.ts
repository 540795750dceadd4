// The platform inside an app that made its own DataSource with TypeOrmModule.forRoot (host, port,
// user and database given one by one, not as a URL): migrations, repositories, the outbox and
// exactly-once delivery to another module all run on that DataSource.
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { InjectDataSource, InjectEntityManager, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { Column, DataSource, Entity, EntityManager, PrimaryColumn, Repository, type MigrationInterface, type QueryRunner } from 'typeorm';
import { appliedMigrations, Database, DatabaseModule, defineModule } from '@modulith/database';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
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

describe('on a DataSource the host application made with TypeOrmModule.forRoot', () => {
  let testDb: TestDatabase;
  let app: INestApplicationContext;
  let database: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase('host_data_source');
    const url = new URL(testDb.url);
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          host: url.hostname,
          port: Number(url.port || 5432),
          username: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password) || undefined,
          database: url.pathname.slice(1),
          autoLoadEntities: true,
          retryAttempts: 0,
        }),
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

import { Injectable, Module } from '@nestjs/common';
import { CqrsModule, QueryBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { Database, DatabaseModule, defineModuleSchema } from '@modulith/database';
import { createTestDatabase, type TestDatabase } from '@modulith/database/testing';
import { TransferIngested } from '@modulith/ingestion/contracts';
import { BalanceChanged, GetBalanceQuery, GetLedgerTotalsQuery, type BalanceChangedPayload } from '@modulith/ledger/contracts';
import { inboxMigration, MessagingModule, OnIntegrationEvent, Outbox, type DeliveryContext } from '@modulith/messaging';
import { messagingTestConfig, waitFor, waitForIdle } from '@modulith/messaging/testing';
import { LedgerModule } from '../ledger.module';

/** Stands in for ingestion: publishes TransferIngested through its own outbox. */
@Module({ imports: [MessagingModule.forModule({ module: 'ingestion', schema: 'ingestion' })] })
class FakeIngestionModule {}

const received: BalanceChangedPayload[] = [];

/** Listens for what the ledger publishes, like any other module would. */
@Injectable()
class BalanceProbe {
  @OnIntegrationEvent(BalanceChanged, { name: 'probe.balance-changed' })
  record(event: BalanceChanged, _context: DeliveryContext): void {
    received.push(event.payload);
  }
}
const probeSchema = defineModuleSchema({ module: 'probe', schema: 'probe', entities: [], migrations: [inboxMigration('probe')] });
@Module({
  imports: [DatabaseModule.forModule(probeSchema), MessagingModule.forModule({ module: 'probe', schema: 'probe' })],
  providers: [BalanceProbe],
})
class ProbeModule {}

const transfer = (transferId: string, from: string, to: string, amount: string, currency = 'EUR') =>
  new TransferIngested({ transferId, from, to, amount, currency, occurredAt: '2026-01-01T00:00:00.000Z' });

describe('ledger (module alone with the messaging platform, real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    testDb = await createTestDatabase('ledger');
    moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        DatabaseModule.forRoot(testDb.config),
        MessagingModule.forRoot(messagingTestConfig()),
        FakeIngestionModule,
        LedgerModule,
        ProbeModule,
      ],
    }).compile();
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef?.close();
    await testDb?.drop();
  });

  it('given ingested transfers, then balances follow double entry and BalanceChanged arrives per posting', async () => {
    const database = moduleRef.get(Database);
    const outbox = moduleRef.select(FakeIngestionModule).get(Outbox);
    await database.transaction((tx) =>
      outbox.append(tx, [transfer('t1', 'alice', 'bob', '100'), transfer('t2', 'bob', 'carol', '30'), transfer('t3', 'alice', 'carol', '5', 'USD')]),
    );
    await waitForIdle(moduleRef);
    await waitFor(() => received.length === 6, { message: 'six BalanceChanged events' });

    const queries = moduleRef.get(QueryBus);
    expect(await queries.execute(new GetBalanceQuery('alice'))).toEqual({
      account: 'alice',
      balances: [
        { currency: 'EUR', balance: '-100' },
        { currency: 'USD', balance: '-5' },
      ],
    });
    expect((await queries.execute(new GetBalanceQuery('bob'))).balances).toEqual([{ currency: 'EUR', balance: '70' }]);
    expect(received.filter((change) => change.account === 'bob').map((change) => [change.delta, change.balance])).toEqual([
      ['100', '100'],
      ['-30', '70'],
    ]);
    const totals = await queries.execute(new GetLedgerTotalsQuery());
    expect(totals).toMatchObject({ transfersApplied: 3, malformedTransfers: 0 });
    expect(totals.sumByCurrency.every((row) => row.balance === '0')).toBe(true);
  });

  it('given the same event delivered again, then nothing is applied twice', async () => {
    const database = moduleRef.get(Database);
    // Re-insert a copy of an already handled envelope, as a crashed relay would leave it.
    await database.dataSource.query(
      `INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload)
       SELECT event_id, 'ingestion.transfer-ingested', 1, now(), 'ingestion', 'c', NULL,
              '{"transferId":"t1","from":"alice","to":"bob","amount":"100","currency":"EUR","occurredAt":"2026-01-01T00:00:00.000Z"}'::json
         FROM ledger.inbox LIMIT 1`,
    );
    await waitForIdle(moduleRef);
    const totals = await moduleRef.get(QueryBus).execute(new GetLedgerTotalsQuery());
    expect(totals.transfersApplied).toBe(3);
    expect((await moduleRef.get(QueryBus).execute(new GetBalanceQuery('alice'))).balances[0]).toEqual({ currency: 'EUR', balance: '-100' });
  });
});

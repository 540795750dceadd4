import { Injectable, Module } from '@nestjs/common';
import { CqrsModule, QueryBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { Database, DatabaseModule, defineModuleSchema } from '@modulith/database';
import { createTestDatabase, type TestDatabase } from '@modulith/database/testing';
import { TRANSFER_LIMITS, TransferIngested } from '@modulith/ingestion/contracts';
import { BalanceChanged, FindEntriesQuery, GetBalanceQuery, GetLedgerTotalsQuery, type BalanceChangedPayload } from '@modulith/ledger/contracts';
import { inboxMigration, MessagingModule, OnIntegrationEvent, Outbox, type DeliveryContext } from '@modulith/messaging';
import { messagingTestConfig, waitFor, waitForIdle } from '@modulith/messaging/testing';
import { LedgerModule } from '../ledger.module';

// The largest amount ingestion accepts; every balance built from such amounts must stay exact.
const MAX = TRANSFER_LIMITS.maxAmount;
const times = (n: number) => (MAX * BigInt(n)).toString();

@Module({ imports: [MessagingModule.forModule({ module: 'ingestion', schema: 'ingestion' })] })
class FakeIngestionModule {}

const received: BalanceChangedPayload[] = [];

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

const maxTransfer = (transferId: string, from: string, to: string) =>
  new TransferIngested({ transferId, from, to, amount: MAX.toString(), currency: 'EUR', occurredAt: '2026-01-01T00:00:00.000Z' });

describe('ledger balances beyond 64 bits (module alone, real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let moduleRef: TestingModule;
  let database: Database;
  let queries: QueryBus;

  const publish = (events: TransferIngested[]) => database.transaction((tx) => moduleRef.select(FakeIngestionModule).get(Outbox).append(tx, events));
  const balanceOf = async (account: string) => (await queries.execute(new GetBalanceQuery(account))).balances;
  const deadLetters = async () => (await database.dataSource.query('SELECT subscriber, error FROM messaging.dead_letters')) as unknown[];

  beforeAll(async () => {
    testDb = await createTestDatabase('ledger_wide');
    moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        DatabaseModule.forRoot(testDb.config),
        MessagingModule.forRoot(messagingTestConfig({ handlerMaxAttempts: 2 })),
        FakeIngestionModule,
        LedgerModule,
        ProbeModule,
      ],
    }).compile();
    await moduleRef.init();
    database = moduleRef.get(Database);
    queries = moduleRef.get(QueryBus);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await testDb?.drop();
  });

  it('given many maximum amounts credited to one account, in one batch and across batches, then its balance is exact', async () => {
    // Three in one transaction (one batch: the net change alone leaves 64 bits), then two more.
    await publish([maxTransfer('in-1', 'src-1', 'whale'), maxTransfer('in-2', 'src-2', 'whale'), maxTransfer('in-3', 'src-3', 'whale')]);
    await publish([maxTransfer('in-4', 'src-4', 'whale')]);
    await publish([maxTransfer('in-5', 'src-5', 'whale')]);
    await waitForIdle(moduleRef);

    expect(await deadLetters()).toEqual([]);
    expect(await balanceOf('whale')).toEqual([{ currency: 'EUR', balance: times(5) }]);
    const entries = await queries.execute(new FindEntriesQuery('whale', 10));
    expect(entries.items.map((entry) => entry.balanceAfter).reverse()).toEqual([times(1), times(2), times(3), times(4), times(5)]);
    await waitFor(() => received.filter((change) => change.account === 'whale').length === 5, { message: "five BalanceChanged for 'whale'" });
    expect(received.filter((change) => change.account === 'whale').map((change) => change.balance)).toEqual([times(1), times(2), times(3), times(4), times(5)]);
  });

  it('given an account that sends maximum amounts, then its balance goes far below the 64-bit minimum, exactly', async () => {
    await publish([maxTransfer('out-1', 'spender', 'dst-1'), maxTransfer('out-2', 'spender', 'dst-2')]);
    await publish([maxTransfer('out-3', 'spender', 'dst-3'), maxTransfer('out-4', 'spender', 'whale')]);
    await waitForIdle(moduleRef);

    expect(await deadLetters()).toEqual([]);
    expect(await balanceOf('spender')).toEqual([{ currency: 'EUR', balance: `-${times(4)}` }]);
    expect(BigInt((await balanceOf('spender'))[0].balance)).toBeLessThan(-(2n ** 64n));
    expect(await balanceOf('whale')).toEqual([{ currency: 'EUR', balance: times(6) }]);
    const entries = await queries.execute(new FindEntriesQuery('spender', 10));
    expect(entries.items.map((entry) => [entry.amount, entry.balanceAfter]).reverse()).toEqual([
      [`-${MAX}`, `-${times(1)}`],
      [`-${MAX}`, `-${times(2)}`],
      [`-${MAX}`, `-${times(3)}`],
      [`-${MAX}`, `-${times(4)}`],
    ]);

    const totals = await queries.execute(new GetLedgerTotalsQuery());
    expect(totals).toMatchObject({ transfersApplied: 9, malformedTransfers: 0, sumByCurrency: [{ currency: 'EUR', balance: '0' }] });
  });
});

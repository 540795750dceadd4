import { Injectable, Module } from '@nestjs/common';
import { CqrsModule, QueryBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { Database, DatabaseModule, defineModule } from '@modulith/database';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { TRANSFER_LIMITS, TransferIngested } from '@modulith/ingestion/contracts';
import { BalanceChanged, FindEntriesQuery, GetBalanceQuery, GetLedgerTotalsQuery, type BalanceChangedPayload } from '@modulith/ledger/contracts';
import { MessagingModule, OnIntegrationEvent, Outbox, type DeliveryContext } from '@modulith/messaging';
import { messagingTestConfig, waitForIdle } from '@modulith/messaging/testing';
import { LedgerModule } from '../ledger.module';

/** Stands in for ingestion: publishes TransferIngested through its own outbox. */
@Module({ imports: [MessagingModule.forModule(defineModule({ name: 'ingestion', schema: false }))] })
class FakeIngestionModule {}

const received: BalanceChangedPayload[] = [];
const keys: { orderingKey?: string; keySeq?: number; entrySeq: string }[] = [];

/** Listens for what the ledger publishes, like any other module would. */
@Injectable()
class BalanceProbe {
  @OnIntegrationEvent(BalanceChanged, { name: 'probe.balance-changed' })
  record(event: BalanceChanged, { envelope }: DeliveryContext): void {
    received.push(event.payload);
    keys.push({ orderingKey: envelope.orderingKey, keySeq: envelope.keySeq, entrySeq: event.payload.entrySeq });
  }
}
@Module({
  imports: [MessagingModule.forModule(defineModule({ name: 'probe', schema: 'probe' }))],
  providers: [BalanceProbe],
})
class ProbeModule {}

const transfer = (transferId: string, from: string, to: string, amount: string, currency = 'EUR') =>
  new TransferIngested({ transferId, from, to, amount, currency, occurredAt: '2026-01-01T00:00:00.000Z' });

/** The ledger with a stand-in ingestion and a BalanceChanged probe, on a fresh database. */
async function bootLedger(name: string): Promise<{ testDb: TestDatabase; moduleRef: TestingModule }> {
  const testDb = await createTestDatabase(name);
  const moduleRef = await Test.createTestingModule({
    imports: [
      CqrsModule.forRoot(),
      DatabaseModule.forRoot(databaseTestConfig(testDb.url)),
      // Two attempts: an event the ledger cannot apply reaches the dead letters quickly.
      MessagingModule.forRoot(messagingTestConfig({ handlerMaxAttempts: 2 })),
      FakeIngestionModule,
      LedgerModule,
      ProbeModule,
    ],
  }).compile();
  await moduleRef.init();
  return { testDb, moduleRef };
}

describe('ledger (module alone with the messaging platform, real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    ({ testDb, moduleRef } = await bootLedger('ledger'));
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
    await eventually(() => received.length === 6, { message: 'six BalanceChanged events' });

    const queries = moduleRef.get(QueryBus);
    // Each balance names its last entry: the entrySeq of the BalanceChanged that set it.
    const lastSeq = (account: string, currency: string) => received.filter((change) => change.account === account && change.currency === currency).at(-1)?.entrySeq;
    expect(await queries.execute(new GetBalanceQuery('alice'))).toEqual({
      account: 'alice',
      balances: [
        { currency: 'EUR', balance: '-100', entrySeq: lastSeq('alice', 'EUR') },
        { currency: 'USD', balance: '-5', entrySeq: lastSeq('alice', 'USD') },
      ],
    });
    expect((await queries.execute(new GetBalanceQuery('bob'))).balances).toEqual([{ currency: 'EUR', balance: '70', entrySeq: lastSeq('bob', 'EUR') }]);
    expect(received.filter((change) => change.account === 'bob').map((change) => [change.delta, change.balance])).toEqual([
      ['100', '100'],
      ['-30', '70'],
    ]);
    const totals = await queries.execute(new GetLedgerTotalsQuery());
    expect(totals).toMatchObject({ transfersApplied: 3, malformedTransfers: 0 });
    expect(totals.sumByCurrency.every((row) => row.balance === '0')).toBe(true);
    expect(totals.statements).toEqual({ statements: 5, lines: 6, broken: 0, problems: [] });
  });

  it('given more changes to a balance, then its events are keyed by account and currency and numbered 1, 2, 3… in entrySeq order', async () => {
    const database = moduleRef.get(Database);
    const outbox = moduleRef.select(FakeIngestionModule).get(Outbox);
    await database.transaction((tx) => outbox.append(tx, [transfer('t4', 'carol', 'bob', '1'), transfer('t5', 'bob', 'alice', '2', 'USD')]));
    await database.transaction((tx) => outbox.append(tx, [transfer('t6', 'alice', 'bob', '3')]));
    await waitForIdle(moduleRef);
    await eventually(() => received.length === 12, { message: 'twelve BalanceChanged events' });

    const ofKey = (key: string) => keys.filter((entry) => entry.orderingKey === key).sort((a, b) => (a.keySeq ?? 0) - (b.keySeq ?? 0));
    expect(keys.every((entry) => entry.orderingKey !== undefined)).toBe(true);
    // bob/EUR: t1, t2, t4, t6 (four changes); bob/USD is another key, numbered on its own.
    expect(ofKey('bob/EUR').map((entry) => entry.keySeq)).toEqual([1, 2, 3, 4]);
    expect(ofKey('bob/USD').map((entry) => entry.keySeq)).toEqual([1]);
    for (const key of new Set(keys.map((entry) => entry.orderingKey as string))) {
      const seqs = ofKey(key).map((entry) => BigInt(entry.entrySeq));
      expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
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
    expect(totals.transfersApplied).toBe(6);
    expect((await moduleRef.get(QueryBus).execute(new GetBalanceQuery('alice'))).balances[0]).toMatchObject({ currency: 'EUR', balance: '-103' });
    expect(totals.statements).toMatchObject({ lines: 12, broken: 0 });
  });
});

// The largest amount ingestion accepts; balances built from many of them must stay exact.
const MAX = TRANSFER_LIMITS.maxAmount;
const times = (n: number) => (MAX * BigInt(n)).toString();
const maxTransfer = (transferId: string, from: string, to: string) => transfer(transferId, from, to, MAX.toString());

describe('ledger balances beyond 64 bits (module alone with the messaging platform, real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let moduleRef: TestingModule;
  let database: Database;
  let queries: QueryBus;

  const publish = (events: TransferIngested[]) => database.transaction((tx) => moduleRef.select(FakeIngestionModule).get(Outbox).append(tx, events));
  const balanceOf = async (account: string) => (await queries.execute(new GetBalanceQuery(account))).balances;
  const balancesAfter = async (account: string) => (await queries.execute(new FindEntriesQuery(account, 10))).items.map((entry) => entry.balanceAfter).reverse();
  const deadLetters = () => database.dataSource.query('SELECT subscriber, error FROM messaging.dead_letters');

  beforeAll(async () => {
    ({ testDb, moduleRef } = await bootLedger('ledger_wide'));
    database = moduleRef.get(Database);
    queries = moduleRef.get(QueryBus);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await testDb?.drop();
  });

  it('given many maximum amounts credited to one account, in one batch and across batches, then its balance is exact', async () => {
    // Three in one transaction (one batch: its net change alone leaves 64 bits), then two more.
    await publish([maxTransfer('in-1', 'src-1', 'whale'), maxTransfer('in-2', 'src-2', 'whale'), maxTransfer('in-3', 'src-3', 'whale')]);
    await publish([maxTransfer('in-4', 'src-4', 'whale')]);
    await publish([maxTransfer('in-5', 'src-5', 'whale')]);
    await waitForIdle(moduleRef);

    expect(await deadLetters()).toEqual([]);
    expect(await balanceOf('whale')).toMatchObject([{ currency: 'EUR', balance: times(5) }]);
    expect(await balancesAfter('whale')).toEqual([times(1), times(2), times(3), times(4), times(5)]);
    const toWhale = () => received.filter((change) => change.account === 'whale').map((change) => change.balance);
    await eventually(() => toWhale().length === 5, { message: "five BalanceChanged for 'whale'" });
    expect(toWhale()).toEqual([times(1), times(2), times(3), times(4), times(5)]);
  });

  it('given an account that sends maximum amounts, then its balance goes far below the 64-bit minimum, exactly', async () => {
    await publish([maxTransfer('out-1', 'spender', 'dst-1'), maxTransfer('out-2', 'spender', 'dst-2')]);
    await publish([maxTransfer('out-3', 'spender', 'dst-3'), maxTransfer('out-4', 'spender', 'whale')]);
    await waitForIdle(moduleRef);

    expect(await deadLetters()).toEqual([]);
    expect(await balanceOf('spender')).toMatchObject([{ currency: 'EUR', balance: `-${times(4)}` }]);
    expect(await balancesAfter('spender')).toEqual([`-${times(1)}`, `-${times(2)}`, `-${times(3)}`, `-${times(4)}`]);
    expect(await balanceOf('whale')).toMatchObject([{ currency: 'EUR', balance: times(6) }]);
    const totals = await queries.execute(new GetLedgerTotalsQuery());
    expect(totals).toMatchObject({ transfersApplied: 9, malformedTransfers: 0, sumByCurrency: [{ currency: 'EUR', balance: '0' }] });
    // The running statements carry the same balances, beyond 64 bits too.
    expect(totals.statements).toMatchObject({ lines: 18, broken: 0 });
  });
});

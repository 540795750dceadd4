import { TransferIngested } from '@modulith/ingestion/contracts';
import { BalanceChanged, GetBalanceQuery, GetStatementQuery } from '@modulith/ledger/contracts';
import { Scenario } from '@modulith/messaging/testing';
import { LedgerModule } from './ledger.module';

const transfer = (transferId: string, from: string, to: string, amount: string) =>
  new TransferIngested({ transferId, from, to, amount, currency: 'EUR', occurredAt: '2026-01-01T00:00:00.000Z' });

// Above SCENARIO_TIMEOUT_MS (15 s by default): a wait that runs out fails with the scenario's own
// message (what is pending, and where) rather than Jest's. Booting takes a few seconds too.
jest.setTimeout(60_000);

describe('ledger scenarios (module alone with the messaging platform, real PostgreSQL)', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await Scenario.boot({ modules: [LedgerModule], name: 'ledger_scenario' });
  });

  afterAll(() => scenario?.close());

  it('given a transfer applied, when another arrives, then BalanceChanged is published and the running statement already has its line', async () => {
    await scenario.given.events(transfer('t-1', 'alice', 'bob', '100'));

    const { event, events } = await scenario.when
      .event(transfer('t-2', 'bob', 'carol', '30'))
      .andWaitForEvent(BalanceChanged, (changed) => changed.payload.account === 'bob');

    expect(event.payload).toMatchObject({ account: 'bob', currency: 'EUR', delta: '-30', balance: '70', transferId: 't-2' });
    // The stimulus, then one change per posting (carol's and bob's, in entry order).
    expect(events.map((envelope) => envelope.type)).toEqual(['ingestion.transfer-ingested', 'ledger.balance-changed', 'ledger.balance-changed']);
    expect((await scenario.query(new GetBalanceQuery('bob'))).balances).toEqual([{ currency: 'EUR', balance: '70', entrySeq: event.payload.entrySeq }]);
    // Settled means the ledger's own statement subscriber handled the BalanceChanged it caused:
    // no waiting for the statement here.
    const statement = await scenario.query(new GetStatementQuery('bob', 'EUR', 10));
    expect(statement.lines.map((line) => [line.amount, line.balanceAfter])).toEqual([
      ['100', '100'],
      ['-30', '70'],
    ]);
  });

  it('when several transfers arrive in one batch, then every balance change they cause is recorded before the scenario goes on', async () => {
    const outcome = await scenario.when
      .events([transfer('t-3', 'carol', 'dave', '5'), transfer('t-4', 'dave', 'alice', '2'), transfer('t-5', 'alice', 'dave', '1')])
      .andWaitForSettled();

    expect(outcome.eventsOf(BalanceChanged)).toHaveLength(6);
    const lines = (await scenario.query(new GetStatementQuery('dave', 'EUR', 10))).lines;
    expect(lines.map((line) => line.balanceAfter)).toEqual(['5', '3', '4']);
  });

  it('when two transfers are sent at once, then each stimulus is credited with the BalanceChanged of its own transfer (concurrent whens are queued)', async () => {
    const [a, b] = await Promise.all(
      ['c-a', 'c-b'].map((transferId) =>
        scenario.when.event(transfer(transferId, `${transferId}-from`, `${transferId}-to`, '10')).andWaitForEvent(BalanceChanged, (changed) => changed.payload.transferId === transferId),
      ),
    );
    expect(a.event.payload.transferId).toBe('c-a');
    expect(b.event.payload.transferId).toBe('c-b');
  });
});

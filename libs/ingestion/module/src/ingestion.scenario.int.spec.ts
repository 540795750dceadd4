import { GetTransferQuery, IngestTransfersCommand, TransferIngested, type Transfer } from '@modulith/ingestion/contracts';
import { Scenario } from '@modulith/messaging/testing';
import { IngestionModule } from './ingestion.module';

const transfer = (id: string, amount = '100'): Transfer => ({ id, from: 'acc-1', to: 'acc-2', amount, currency: 'EUR', occurredAt: '2026-01-31T12:00:00.000Z' });

// Above SCENARIO_TIMEOUT_MS (15 s by default): a wait that runs out fails with the scenario's own
// message (what is pending, and where) rather than Jest's. Booting takes a few seconds too.
jest.setTimeout(60_000);

describe('ingestion scenarios (module alone with the messaging platform, real PostgreSQL)', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await Scenario.boot({ modules: [IngestionModule], name: 'ingestion_scenario', clock: '2026-02-01T09:00:00.000Z' });
  });

  afterAll(() => scenario?.close());

  it('when transfers are ingested, then each new one is stored at the clock time and TransferIngested is published', async () => {
    const { result, event, envelope } = await scenario.when
      .command(new IngestTransfersCommand([transfer('s-1'), transfer('s-2', '250')]))
      .andWaitForEvent(TransferIngested, (ingested) => ingested.payload.transferId === 's-2');

    expect(result).toEqual({ accepted: 2, replayed: 0 });
    expect(event.payload).toEqual({ transferId: 's-2', from: 'acc-1', to: 'acc-2', amount: '250', currency: 'EUR', occurredAt: '2026-01-31T12:00:00.000Z' });
    expect(envelope).toMatchObject({ source: 'ingestion', occurredAt: '2026-02-01T09:00:00.000Z' });
    expect(await scenario.query(new GetTransferQuery('s-2'))).toMatchObject({ amount: '250', ingestedAt: '2026-02-01T09:00:00.000Z' });
  });

  it('given stored transfers, when the batch is replayed an hour later, then nothing new is stored or published', async () => {
    await scenario.given.commands(new IngestTransfersCommand([transfer('r-1')]));
    scenario.clock.advance(60 * 60_000);

    const outcome = await scenario.when.command(new IngestTransfersCommand([transfer('r-1'), transfer('r-2')])).andWaitForSettled();

    expect(outcome.result).toEqual({ accepted: 1, replayed: 1 });
    expect(outcome.eventsOf(TransferIngested).map((ingested) => ingested.payload.transferId)).toEqual(['r-2']);
    expect((await scenario.query(new GetTransferQuery('r-1')))?.ingestedAt).toBe('2026-02-01T09:00:00.000Z');
    expect((await scenario.query(new GetTransferQuery('r-2')))?.ingestedAt).toBe('2026-02-01T10:00:00.000Z');
  });
});

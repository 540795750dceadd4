import { GetAnalyticsTotalsQuery, GetHourlyVolumeQuery } from '@modulith/analytics/contracts';
import { TransferIngested } from '@modulith/ingestion/contracts';
import { Scenario } from '@modulith/messaging/testing';
import { AnalyticsModule } from './analytics.module';

// Above SCENARIO_TIMEOUT_MS (15 s by default): a wait that runs out fails with the scenario's own
// message (what is pending, and where) rather than Jest's. Booting takes a few seconds too.
jest.setTimeout(60_000);

describe('analytics scenarios (module alone with the messaging platform, real PostgreSQL)', () => {
  let scenario: Scenario;

  /** A transfer that occurs now, by the scenario's clock. */
  const transferNow = (transferId: string, amount: string, currency = 'EUR') =>
    new TransferIngested({ transferId, from: 'a', to: 'b', amount, currency, occurredAt: scenario.clock.now().toISOString() });

  beforeAll(async () => {
    scenario = await Scenario.boot({ modules: [AnalyticsModule], name: 'analytics_scenario', clock: '2026-03-10T10:15:00.000Z' });
  });

  afterAll(() => scenario?.close());

  it('given transfers in one hour, when more arrive in that hour and the next, then each hour has its own bucket', async () => {
    await scenario.given.events(transferNow('h-1', '100'), transferNow('h-2', '40', 'USD'));
    scenario.clock.advance(30 * 60_000); // 10:45, same hour
    const late = transferNow('h-3', '250');
    scenario.clock.advance(30 * 60_000); // 11:15, next hour

    const { state } = await scenario.when
      .events([late, transferNow('h-4', '7')])
      .andWaitForStateChange(() => scenario.query(new GetHourlyVolumeQuery('EUR')));

    expect(state.buckets).toEqual([
      { hour: '2026-03-10T10:00:00.000Z', currency: 'EUR', count: 2, volume: '350', largest: '250' },
      { hour: '2026-03-10T11:00:00.000Z', currency: 'EUR', count: 1, volume: '7', largest: '7' },
    ]);
    expect((await scenario.query(new GetAnalyticsTotalsQuery())).transfersCounted).toBe(4);
  });
});

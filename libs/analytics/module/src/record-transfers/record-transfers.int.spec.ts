import { CqrsModule, QueryBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { GetAnalyticsTotalsQuery, GetHourlyVolumeQuery } from '@modulith/analytics/contracts';
import { Database, DatabaseModule } from '@modulith/database';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import type { TransferIngestedPayload } from '@modulith/ingestion/contracts';
import { MessagingModule } from '@modulith/messaging';
import { AnalyticsModule } from '../analytics.module';
import { AnalyticsRepository } from '../analytics.repository';

const transfer = (transferId: string, amount: string, occurredAt: string, currency = 'EUR'): TransferIngestedPayload => ({
  transferId,
  from: 'a',
  to: 'b',
  amount,
  currency,
  occurredAt,
});

describe('analytics (module alone, real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    testDb = await createTestDatabase('analytics');
    moduleRef = await Test.createTestingModule({
      imports: [CqrsModule.forRoot(), DatabaseModule.forRoot(databaseTestConfig(testDb.url)), MessagingModule.forRoot({ relayEnabled: false }), AnalyticsModule],
    }).compile();
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef?.close();
    await testDb?.drop();
  });

  it('given transfers in two hours, when recorded in batches, then buckets hold count, volume and largest', async () => {
    const database = moduleRef.get(Database);
    const repository = moduleRef.get(AnalyticsRepository);
    await database.transaction((tx) =>
      repository.record(tx, [
        transfer('t1', '100', '2026-01-01T10:05:00.000Z'),
        transfer('t2', '9223372036854775807', '2026-01-01T10:59:59.999Z'),
        transfer('t3', '7', '2026-01-01T11:00:00.000Z'),
        transfer('t4', '5', '2026-01-01T10:30:00.000Z', 'USD'),
      ]),
    );
    await database.transaction((tx) => repository.record(tx, [transfer('t5', '9223372036854775807', '2026-01-01T10:10:00.000Z')]));

    const queries = moduleRef.get(QueryBus);
    const { buckets } = await queries.execute(new GetHourlyVolumeQuery('EUR'));
    expect(buckets).toEqual([
      { hour: '2026-01-01T10:00:00.000Z', currency: 'EUR', count: 3, volume: '18446744073709551714', largest: '9223372036854775807' },
      { hour: '2026-01-01T11:00:00.000Z', currency: 'EUR', count: 1, volume: '7', largest: '7' },
    ]);
    expect((await queries.execute(new GetHourlyVolumeQuery(undefined, '2026-01-01T11:00:00.000Z'))).buckets).toHaveLength(1);
    // Paged by two: every bucket once, in (hour, currency) order, and the last page says so.
    const first = await queries.execute(new GetHourlyVolumeQuery(undefined, undefined, undefined, 2));
    expect(first.buckets.map((b) => `${b.hour} ${b.currency}`)).toEqual(['2026-01-01T10:00:00.000Z EUR', '2026-01-01T10:00:00.000Z USD']);
    const second = await queries.execute(new GetHourlyVolumeQuery(undefined, undefined, undefined, 2, first.nextCursor ?? 'missing'));
    expect(second).toEqual({ buckets: [expect.objectContaining({ hour: '2026-01-01T11:00:00.000Z', currency: 'EUR' })], nextCursor: null });
    expect(await queries.execute(new GetAnalyticsTotalsQuery())).toEqual({
      transfersCounted: 5,
      byCurrency: [
        { currency: 'EUR', count: 4, volume: '18446744073709551721' },
        { currency: 'USD', count: 1, volume: '5' },
      ],
    });
  });
});

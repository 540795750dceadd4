import { Module } from '@nestjs/common';
import { CqrsModule, QueryBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { GetAnalyticsTotalsQuery, GetHourlyVolumeQuery } from '@modulith/analytics/contracts';
import { Database, DatabaseModule, defineModule } from '@modulith/database';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { TRANSFER_LIMITS, TransferIngested } from '@modulith/ingestion/contracts';
import { MessagingModule, Outbox } from '@modulith/messaging';
import { messagingTestConfig, waitForIdle } from '@modulith/messaging/testing';
import { AnalyticsModule } from '../analytics.module';

const MAX = TRANSFER_LIMITS.maxAmount;

@Module({ imports: [MessagingModule.forModule(defineModule({ name: 'ingestion', schema: false }))] })
class FakeIngestionModule {}

const maxTransfer = (transferId: string, occurredAt: string) =>
  new TransferIngested({ transferId, from: `src-${transferId}`, to: 'whale', amount: MAX.toString(), currency: 'EUR', occurredAt });

describe('analytics volume beyond 64 bits (module alone with the messaging platform, real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    testDb = await createTestDatabase('analytics_wide');
    moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        DatabaseModule.forRoot(databaseTestConfig(testDb.url)),
        MessagingModule.forRoot(messagingTestConfig({ handlerMaxAttempts: 2 })),
        FakeIngestionModule,
        AnalyticsModule,
      ],
    }).compile();
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef?.close();
    await testDb?.drop();
  });

  it('given 1,200 maximum amounts in one hour and currency, over several batches, then count, volume and largest are exact', async () => {
    const database = moduleRef.get(Database);
    const outbox = moduleRef.select(FakeIngestionModule).get(Outbox);
    // Three commits of 400: more than one handler batch (500) folds into the same bucket.
    for (let part = 0; part < 3; part++) {
      const events = Array.from({ length: 400 }, (_, i) => maxTransfer(`t-${part * 400 + i}`, `2026-01-01T10:${String(i % 60).padStart(2, '0')}:00.000Z`));
      await database.transaction((tx) => outbox.append(tx, events));
    }
    await waitForIdle(moduleRef, { timeoutMs: 30_000 });

    expect(await database.dataSource.query('SELECT subscriber, error FROM messaging.dead_letters')).toEqual([]);
    const volume = (MAX * 1200n).toString();
    const queries = moduleRef.get(QueryBus);
    expect((await queries.execute(new GetHourlyVolumeQuery('EUR'))).buckets).toEqual([
      { hour: '2026-01-01T10:00:00.000Z', currency: 'EUR', count: 1200, volume, largest: MAX.toString() },
    ]);
    expect(await queries.execute(new GetAnalyticsTotalsQuery())).toEqual({ transfersCounted: 1200, byCurrency: [{ currency: 'EUR', count: 1200, volume }] });
  });
});

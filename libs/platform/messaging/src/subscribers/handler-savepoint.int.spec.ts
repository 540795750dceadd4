// A handler that leaves a TypeORM nested transaction (a SAVEPOINT) open on its EntityManager, or
// whose nested transactions are still in flight when it fails. The platform's rollback of such an
// attempt (a refused inbox tail, a handler failure) must end the whole transaction: rolled back
// only to the savepoint, the connection went back to the pool inside it, the next attempt's
// BEGIN joined it and its COMMIT committed the refused attempt's effect (applied twice), or the
// rollback failed and a failing event was retried for ever as an infrastructure failure.
// Real PostgreSQL and Redis.
import { Inject, Injectable, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { uuidv7 } from '@modulith/core';
import { defineModule } from '@modulith/database';
import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import type { EventEnvelope } from '../events/event-envelope';
import { MessagingModule } from '../messaging.module';
import { createFixtureApp } from '../test-support/fixture-app';
import { CONTROL, FixtureControl, ThingHappened } from '../test-support/fixture-events';
import { deleteRedisKeys, messagingTestConfig, redisTestPrefix, requireRedis, waitForIdle } from '../testing';
import { encodeEnvelope, ENVELOPE_FIELD, streamKey } from '../transport/redis/stream-entries';
import { OnIntegrationEvent, type BatchDeliveryContext, type DeliveryContext } from './on-integration-event.decorator';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

class CreateGammaEffects implements MigrationInterface {
  readonly name = 'gamma-0001-effects';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE gamma.effects (event_id uuid NOT NULL, label text NOT NULL, tx bigint NOT NULL DEFAULT txid_current())');
  }
  async down(): Promise<void> {
    // dropped with the database
  }
}

/** Labels: `open` leaves a nested transaction open; `fail` also throws; `parallel` fails one of several nested transactions in flight. */
@Injectable()
class GammaSubscriber {
  constructor(@Inject(CONTROL) private readonly control: FixtureControl) {}

  @OnIntegrationEvent(ThingHappened)
  async apply(event: ThingHappened, { manager, envelope }: DeliveryContext): Promise<void> {
    const label = event.payload.label;
    this.control.recordAttempt('gamma', label);
    await manager.query('INSERT INTO gamma.effects (event_id, label) VALUES ($1, $2)', [envelope.id, label]);
    // A unit of work started on the handler's manager and never finished (SAVEPOINT typeorm_1).
    if (label.startsWith('open')) await (manager.queryRunner as QueryRunner).startTransaction();
    if (label.includes('fail')) throw new Error(`gamma cannot digest ${label}`);
  }
}

/** Each event in a nested transaction of its own, side by side; `poison` labels fail theirs. */
@Injectable()
class DeltaSubscriber {
  constructor(@Inject(CONTROL) private readonly control: FixtureControl) {}

  @OnIntegrationEvent(ThingHappened, { batch: 10 })
  async applyMany(events: ThingHappened[], { manager, envelopes }: BatchDeliveryContext): Promise<void> {
    for (const event of events) this.control.recordAttempt('delta', event.payload.label);
    await Promise.all(
      events.map((event, index) =>
        manager.transaction(async (tx) => {
          await tx.query('INSERT INTO delta.effects (event_id, label) VALUES ($1, $2)', [envelopes[index].id, event.payload.label]);
          if (this.control.poison.beta.has(event.payload.label)) throw new Error(`delta cannot digest ${event.payload.label}`);
        }),
      ),
    );
  }
}

class CreateDeltaEffects implements MigrationInterface {
  readonly name = 'delta-0001-effects';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE delta.effects (event_id uuid NOT NULL, label text NOT NULL)');
  }
  async down(): Promise<void> {
    // dropped with the database
  }
}

const gammaModule = {
  module: class GammaModule {},
  imports: [MessagingModule.forModule(defineModule({ name: 'gamma', schema: 'gamma', migrations: [CreateGammaEffects] }))],
  providers: [GammaSubscriber],
};
const deltaModule = {
  module: class DeltaModule {},
  imports: [MessagingModule.forModule(defineModule({ name: 'delta', schema: 'delta', migrations: [CreateDeltaEffects] }))],
  providers: [DeltaSubscriber],
};

const envelope = (label: string): EventEnvelope => ({
  id: uuidv7(),
  type: ThingHappened.type,
  version: 1,
  occurredAt: new Date().toISOString(),
  source: 'producer',
  correlationId: `savepoint-${label}`,
  causationId: null,
  payload: { seq: 1, label },
});

describe('A handler that leaves a nested transaction open: the attempt’s rollback ends the whole transaction (real PostgreSQL, Redis)', () => {
  let db: TestDatabase;
  let redis: Redis;
  let prefix: string;
  const apps: INestApplicationContext[] = [];

  const sql = sqlOneShot(() => db.url);
  const effects = (schema: 'gamma' | 'delta', id: string): Promise<{ label: string }[]> => sql(`SELECT label FROM ${schema}.effects WHERE event_id = $1`, [id]);
  const append = async (envelopes: readonly EventEnvelope[]): Promise<void> => {
    const multi = redis.multi();
    for (const item of envelopes) multi.xadd(streamKey(prefix, item.type), '*', ENVELOPE_FIELD, encodeEnvelope(item));
    await multi.exec();
  };
  const start = async (module: DynamicModule, control = new FixtureControl(), messaging = {}) => {
    const started = await createFixtureApp({
      database: databaseTestConfig(db.url),
      consumers: [],
      imports: [module],
      control,
      messaging: messagingTestConfig({ relayEnabled: false, eventTransport: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix, ...messaging }),
    });
    apps.push(started.app);
    return started;
  };

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    redis = new Redis(REDIS_URL);
    db = await createTestDatabase('handler_savepoint');
  });

  beforeEach(() => {
    prefix = redisTestPrefix('savepoint');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deleteRedisKeys(REDIS_URL, prefix);
  });

  afterAll(async () => {
    redis?.disconnect();
    await db?.drop();
  });

  it('a copy of a handled event, read as a first delivery, has no effect: its refused attempt is rolled back entirely', async () => {
    const event = envelope('open-1');
    await append([event]);
    const { app, control } = await start(gammaModule);
    await eventually(async () => (await effects('gamma', event.id)).length >= 1, { message: 'the event to be handled' });
    // A second copy (a relay that appended and then rolled back, a re-drive): read with `>`, so
    // the handler runs before the inbox refuses it.
    await append([event]);
    await eventually(async () => (control.attempts.get('gamma:open-1') ?? []).length >= 2, { message: 'the copy to reach the handler' });
    // Anything on the messaging pool after it: more events.
    const more = Array.from({ length: 5 }, (_, index) => envelope(`plain-${index}`));
    await append(more);
    await eventually(async () => (await Promise.all(more.map((item) => effects('gamma', item.id)))).every((rows) => rows.length === 1), { message: 'later events' });
    await waitForIdle(app);
    expect(await effects('gamma', event.id)).toHaveLength(1);
  }, 60_000);

  it('a handler that fails with its nested transaction open leaves no effect behind (parked, then dead-lettered)', async () => {
    const event = envelope('open-fail-1');
    await append([event]);
    const { app, control } = await start(gammaModule, new FixtureControl(), { handlerMaxAttempts: 2, retryBaseDelayMs: 50, retryMaxDelayMs: 100 });
    await eventually(async () => (await sql('SELECT 1 FROM messaging.dead_letters WHERE event_id = $1', [event.id])).length === 1, {
      timeoutMs: 20_000,
      message: 'the failing event to be dead-lettered',
      describe: async () => JSON.stringify({ activity: await sql("SELECT state, left(query, 80) AS query, now() - xact_start AS age FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()"), retries: await sql('SELECT event_id, attempts, last_error FROM messaging.retries'), effects: await sql('SELECT * FROM gamma.effects').catch(() => []), delta: await sql('SELECT * FROM delta.effects').catch(() => []), dead: await sql('SELECT event_id, attempts FROM messaging.dead_letters') }, null, 1),
    });
    const more = Array.from({ length: 5 }, (_, index) => envelope(`plain-${index}`));
    await append(more);
    await eventually(async () => (await Promise.all(more.map((item) => effects('gamma', item.id)))).every((rows) => rows.length === 1), { message: 'later events' });
    await waitForIdle(app);
    expect(control.attempts.get('gamma:open-fail-1')).toHaveLength(2);
    expect(await effects('gamma', event.id)).toHaveLength(0);
  }, 60_000);

  it('a batch whose nested transactions fail side by side is a handler failure (retried, dead-lettered), not an outage retried for ever', async () => {
    const control = new FixtureControl();
    control.poison.beta.add('d2');
    const events = ['d1', 'd2', 'd3'].map((label) => envelope(label));
    await append(events);
    const { app } = await start(deltaModule, control, { handlerMaxAttempts: 2, retryBaseDelayMs: 50, retryMaxDelayMs: 100 });
    await eventually(async () => (await sql('SELECT 1 FROM messaging.dead_letters WHERE event_id = $1', [events[1].id])).length === 1, {
      timeoutMs: 20_000,
      message: 'the failing event to be dead-lettered',
      describe: async () => JSON.stringify({ activity: await sql("SELECT state, left(query, 80) AS query, now() - xact_start AS age FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()"), retries: await sql('SELECT event_id, attempts, last_error FROM messaging.retries'), effects: await sql('SELECT * FROM gamma.effects').catch(() => []), delta: await sql('SELECT * FROM delta.effects').catch(() => []), dead: await sql('SELECT event_id, attempts FROM messaging.dead_letters') }, null, 1),
    });
    await waitForIdle(app);
    expect(await effects('delta', events[0].id)).toHaveLength(1);
    expect(await effects('delta', events[1].id)).toHaveLength(0);
    expect(await effects('delta', events[2].id)).toHaveLength(1);
  }, 60_000);
});

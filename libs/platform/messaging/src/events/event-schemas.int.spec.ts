import { Global, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigurationError, uuidv7 } from '@modulith/core';
import { Database, DatabaseModule, defineModule } from '@modulith/database';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { DeadLetters } from '../dead-letters/dead-letters';
import { EventSchemaError } from '../messaging.errors';
import { MessagingModule } from '../messaging.module';
import { Outbox } from '../outbox/outbox';
import { OutboxRetention } from '../outbox/outbox-retention';
import { OnIntegrationEvent, type BatchDeliveryContext, type DeliveryContext } from '../subscribers/on-integration-event.decorator';
import { messagingTestConfig } from '../testing';
import { IntegrationEvent, type IntegrationEventClass } from './integration-event';

// Version 1 of `test.greeted`, as an older commit declared it, and version 2 as this one does.
interface GreetedV1Payload {
  name: string;
}
const GreetedSchema = Type.Object({ name: Type.String({ minLength: 1 }), greeting: Type.String({ minLength: 1 }) });
type GreetedPayload = Static<typeof GreetedSchema>;

class Greeted extends IntegrationEvent<GreetedPayload> {
  static readonly type = 'test.greeted';
  static readonly version = 2;
  static readonly schema = GreetedSchema;
  static readonly upcasters = { 1: (v1: GreetedV1Payload): GreetedPayload => ({ ...v1, greeting: 'hello' }) };
}

/** What the subscribers were called with, and names that make `single` throw. */
const seen = { single: [] as { payload: GreetedPayload; version: number }[], batch: [] as GreetedPayload[], failing: new Map<string, number>() };

@Injectable()
class GreetingSubscriber {
  @OnIntegrationEvent(Greeted)
  async single(event: Greeted, { envelope }: DeliveryContext): Promise<void> {
    const failures = seen.failing.get(event.payload.name) ?? 0;
    if (failures > 0) {
      seen.failing.set(event.payload.name, failures - 1);
      throw new Error(`not yet: ${event.payload.name}`);
    }
    seen.single.push({ payload: event.payload, version: envelope.version });
  }

  @OnIntegrationEvent(Greeted, { batch: 20 })
  async many(events: Greeted[], _context: BatchDeliveryContext): Promise<void> {
    seen.batch.push(...events.map((event) => event.payload));
  }
}

async function createApp(db: TestDatabase, subscriber: object = GreetingSubscriber): Promise<INestApplicationContext> {
  @Module({
    imports: [
      MessagingModule.forModule(defineModule({ name: 'greeter', schema: 'greeter' })),
    ],
    providers: [subscriber as never],
  })
  class GreeterModule {}
  @Global()
  @Module({
    imports: [
      DatabaseModule.forRoot(databaseTestConfig(db.url)),
      CqrsModule.forRoot(),
      MessagingModule.forRoot(messagingTestConfig({ handlerMaxAttempts: 3, outboxRetentionHours: 1 })),
      GreeterModule,
    ],
  })
  class RootModule {}
  return NestFactory.createApplicationContext(RootModule, { logger: false, abortOnError: false });
}

describe('Event schemas and upcasters (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let database: Database;

  const count = async (table: string): Promise<number> => (await database.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
  /** Writes an envelope as a process built from another commit would: straight into the outbox, no checks. */
  const writeDirectly = async (version: number, payload: object): Promise<string> => {
    const id = uuidv7();
    await database.dataSource.query(
      `INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload)
       VALUES ($1::uuid, 'test.greeted', $2, now(), 'greeter', $1::text, NULL, $3::json)`,
      [id, version, JSON.stringify(payload)],
    );
    await database.dataSource.query(`SELECT pg_notify('modulith_outbox', '')`);
    return id;
  };
  const singleSaw = (name: string) => seen.single.filter((call) => call.payload.name === name);

  beforeAll(async () => {
    db = await createTestDatabase('event_schemas');
    app = await createApp(db);
    await app.init();
    database = app.get(Database);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  }, 60_000);

  it('refuses to append a payload that breaks its schema, naming the field, and writes nothing', async () => {
    const outbox = app.get(Outbox, { strict: false });
    const append = database.transaction((tx) => outbox.append(tx, [new Greeted({ name: 'ok', greeting: 'hi' }), new Greeted({ name: 'bad' } as never)]));
    await expect(append).rejects.toThrow(EventSchemaError);
    await expect(append).rejects.toMatchObject({ field: 'events[1].payload.greeting' });
    await expect(database.transaction((tx) => outbox.append(tx, [new Greeted({ name: 7, greeting: 'hi' } as never)]))).rejects.toThrow(
      /^events\[0\]\.payload\.name: Expected string \(test\.greeted v2\)$/,
    );
    expect(await count('messaging.outbox')).toBe(0);
  }, 30_000);

  it('dead-letters an envelope that breaks the schema with the schema error, at once, and lets the others through', async () => {
    await writeDirectly(2, { name: 'before', greeting: 'hi' });
    const bad = await writeDirectly(2, { name: 'bad' });
    await writeDirectly(1, { name: 'after' });
    await eventually(() => singleSaw('before').length === 1 && singleSaw('after').length === 1, { message: 'the good events to reach the subscriber' });
    await eventually(async () => (await count('messaging.dead_letters')) === 2, { message: 'the bad event to be dead-lettered by both subscribers' });
    const letters = await app.get(DeadLetters).list();
    expect(letters.map((letter) => letter.eventId)).toEqual([bad, bad]);
    for (const letter of letters) {
      expect(letter).toMatchObject({ attempts: 1, error: 'EventSchemaError: payload.greeting: Expected required property (test.greeted v2)' });
    }
    expect(seen.single.some((call) => call.payload.name === 'bad') || seen.batch.some((payload) => payload.name === 'bad')).toBe(false);
    expect(seen.batch.map((payload) => payload.name)).toEqual(expect.arrayContaining(['before', 'after']));
  }, 30_000);

  it('delivers a version 1 event already in the outbox to version 2 subscribers, upcast', async () => {
    await writeDirectly(1, { name: 'ada' });
    await eventually(() => singleSaw('ada').length === 1 && seen.batch.some((payload) => payload.name === 'ada'), { message: 'ada to be delivered' });
    expect(singleSaw('ada')).toEqual([{ payload: { name: 'ada', greeting: 'hello' }, version: 2 }]);
    expect(seen.batch.find((payload) => payload.name === 'ada')).toEqual({ name: 'ada', greeting: 'hello' });
  }, 30_000);

  it('upcasts on retries, on dead-letter replay and on re-drive', async () => {
    // Retry: fails once, succeeds on the retry poller's attempt.
    seen.failing.set('grace', 1);
    await writeDirectly(1, { name: 'grace' });
    await eventually(() => singleSaw('grace').length === 1, { message: 'grace to be retried' });
    expect(singleSaw('grace')[0]).toEqual({ payload: { name: 'grace', greeting: 'hello' }, version: 2 });

    // Dead-letter replay: fails every attempt, then is replayed once the handler is "fixed".
    seen.failing.set('linus', 3);
    const linus = await writeDirectly(1, { name: 'linus' });
    await eventually(async () => (await app.get(DeadLetters).list()).some((letter) => letter.eventId === linus), { message: 'linus to be dead-lettered' });
    const [letter] = (await app.get(DeadLetters).list()).filter((candidate) => candidate.eventId === linus);
    expect(letter.envelope).toMatchObject({ version: 1, payload: { name: 'linus' } });
    await app.get(DeadLetters).replay(letter.id);
    await eventually(() => singleSaw('linus').length === 1, { message: 'linus to be replayed' });
    expect(singleSaw('linus')[0]).toEqual({ payload: { name: 'linus', greeting: 'hello' }, version: 2 });

    // Re-drive: a subscriber that lost ada (its inbox row gone) gets her again from the retained outbox, upcast.
    await database.dataSource.query(`DELETE FROM greeter.inbox WHERE subscriber = 'greeter.GreetingSubscriber.single'`);
    seen.single.length = 0;
    await app.get(OutboxRetention).redriveFrom(new Date(Date.now() - 3_600_000));
    await eventually(() => singleSaw('ada').length === 1, { message: 'ada to be re-driven' });
    expect(singleSaw('ada')[0]).toEqual({ payload: { name: 'ada', greeting: 'hello' }, version: 2 });
  }, 30_000);

  it('refuses to start when an upcaster chain has a gap, naming the event', async () => {
    class Waved extends IntegrationEvent<{ hand: string }> {
      static readonly type = 'test.waved';
      static readonly version = 3;
      static readonly upcasters = { 1: (v1: object) => v1 };
    }
    @Injectable()
    class WaveSubscriber {
      @OnIntegrationEvent(Waved as IntegrationEventClass<Waved>)
      async wave(_event: Waved, _context: DeliveryContext): Promise<void> {
        // never called: start-up fails first
      }
    }
    const other = await createTestDatabase('event_schemas_gap');
    try {
      const starting = createApp(other, WaveSubscriber).then((gapApp) => gapApp.init().finally(() => gapApp.close()));
      await expect(starting).rejects.toThrow(ConfigurationError);
      await expect(starting).rejects.toThrow('Waved (test.waved) is at version 3 but declares no upcaster from version 2 to 3');
    } finally {
      await other.drop();
    }
  }, 60_000);
});

import type { INestApplicationContext } from '@nestjs/common';
import { Database } from '@modulith/database';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import type { EventEnvelope } from '../events/event-envelope';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads, ThingHappened } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { messagingTestConfig } from '../testing';
import { TRANSPORT, type Transport, type TransportSubscription } from './transport';

/**
 * The smallest broker-like transport: `publish` hands each batch to the durable subscribers
 * before it resolves (so the relay deletes only what they took), best-effort ones after.
 */
class RecordingTransport implements Transport {
  readonly name = 'recording';
  readonly delivery = 'publish';
  readonly published: EventEnvelope[] = [];
  readonly subscriptions: TransportSubscription[] = [];
  started = false;

  subscribe(subscription: TransportSubscription): void {
    this.subscriptions.push(subscription);
  }

  async publish(envelopes: readonly EventEnvelope[]): Promise<void> {
    this.published.push(...envelopes);
    for (const subscription of this.subscriptions) {
      const wanted = envelopes.filter((envelope) => subscription.eventTypes.includes(envelope.type));
      if (wanted.length > 0) await subscription.deliver(wanted);
    }
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
  }
}

describe('MessagingModule.forRoot({ transport }): a transport of the app’s own (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let producer: Producer;
  const transport = new RecordingTransport();

  beforeAll(async () => {
    db = await createTestDatabase('custom_transport');
    ({ app, producer } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig(), consumers: ['alpha'], transport }));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('relays through it, and its subscribers apply each event once', async () => {
    expect(app.get(TRANSPORT)).toBe(transport);
    expect(transport.started).toBe(true);
    expect(transport.subscriptions.map((subscription) => subscription.subscriber)).toEqual(expect.arrayContaining([expect.stringMatching(/^alpha\./)]));

    const ids = await producer.publish(payloads(1, 5));
    const database = app.get(Database);
    const effects = async () => database.dataSource.query<{ event_id: string }[]>('SELECT event_id FROM alpha.effects ORDER BY seq');
    await eventually(async () => (await effects()).length >= 5, { message: 'alpha to apply the five events' });

    expect((await effects()).map((row) => row.event_id)).toEqual(ids);
    expect(transport.published.filter((envelope) => envelope.type === ThingHappened.type).map((envelope) => envelope.id)).toEqual(ids);
    await eventually(async () => (await database.dataSource.query('SELECT count(*)::int AS n FROM messaging.outbox'))[0].n === 0, { message: 'the outbox to empty' });
  });

  it('registers the process under the transport’s name, so the in-process topology rules do not apply to it', async () => {
    const rows = await app.get(Database).dataSource.query('SELECT transport FROM messaging.instances WHERE pid = $1', [process.pid]);
    expect(rows).toEqual([{ transport: 'recording' }]);
  });

  it('is stopped with the app', async () => {
    await app.close();
    expect(transport.started).toBe(false);
  });
});

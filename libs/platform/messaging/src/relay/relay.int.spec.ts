import type { INestApplicationContext } from '@nestjs/common';
import { runWithCorrelation } from '@modulith/core';
import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { InboxPruner } from '../inbox/inbox-pruner';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { Injectable, Module } from '@nestjs/common';
import { EventsHandler } from '@nestjs/cqrs';
import { ConfigurationError } from '@modulith/core';
import { createFixtureApp } from '../test-support/fixture-app';
import { FixtureControl, payloads, ThingHappened } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { messagingTestConfig, relayAll, waitForIdle } from '../testing';

interface EffectRow {
  event_id: string;
  tx: string;
  correlation_id: string | null;
  causation_id: string | null;
  batch_size: number;
}

describe('Relay and subscribers (real PostgreSQL)', () => {
  let db: TestDatabase;
  const apps: INestApplicationContext[] = [];

  const start = async (options: Omit<Parameters<typeof createFixtureApp>[0], 'database'>): Promise<{ app: INestApplicationContext; producer: Producer; control: FixtureControl }> => {
    const started = await createFixtureApp({ database: databaseTestConfig(db.url), ...options });
    apps.push(started.app);
    return started;
  };
  const closeAll = async (): Promise<void> => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  };
  const sql = sqlOneShot(() => db.url);
  const effects = (schema: 'alpha' | 'beta'): Promise<EffectRow[]> =>
    sql<EffectRow>(`SELECT event_id, tx::text, correlation_id, causation_id, batch_size FROM ${schema}.effects ORDER BY event_id`);

  beforeAll(async () => {
    db = await createTestDatabase('relay');
  });

  afterEach(async () => {
    await closeAll();
    await sql('TRUNCATE alpha.effects, alpha.inbox, beta.effects, beta.inbox, messaging.outbox, messaging.event_log, messaging.retries, messaging.dead_letters').catch(() => undefined);
  });

  afterAll(async () => {
    await closeAll();
    await db?.drop();
  });

  it('delivers every event exactly once to each subscriber with two relays, concurrent producers and a late commit', async () => {
    // Two in-process relays are refused while a best-effort subscriber (beta's) runs: this test
    // is about the durable ones, so it leaves the topology check out.
    const first = await start({ messaging: messagingTestConfig({ relayConcurrency: 2, registerInstance: false }) });
    const second = await start({ messaging: messagingTestConfig({ registerInstance: false }) });

    // A transaction that takes its (lower) ids first and commits last.
    let release!: () => void;
    const held = first.producer.publishHeld(payloads(0, 20, (seq) => `held-${seq}`), new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 50));

    const producers = [first.producer, second.producer, first.producer, second.producer];
    let seq = 1000;
    const published = await Promise.all(
      producers.map((producer, worker) =>
        runWithCorrelation({ correlationId: `load-${worker}` }, async () => {
          const ids: string[] = [];
          for (let round = 0; round < 25; round += 1) {
            const size = 1 + ((round * 7 + worker * 3) % 40);
            ids.push(...(await producer.publish(payloads(seq, size))));
            seq += size;
          }
          return ids;
        }),
      ),
    );
    const loadIds = published.flat();

    // Everything committed so far gets through while the early transaction is still open...
    // alpha takes one event per transaction, in one process at a time (the cursor's lease): a bound, not a timing.
    await eventually(async () => (await effects('alpha')).length === loadIds.length && (await effects('beta')).length === loadIds.length, {
      message: 'the committed events to be handled',
      timeoutMs: 60_000,
    });
    release();
    const heldIds = await held;
    expect(heldIds.every((id) => id < loadIds[0])).toBe(true);

    // ...and the late commit, with lower ids than everything already relayed, is not skipped.
    await waitForIdle(first.app);
    const allIds = [...heldIds, ...loadIds].sort();
    for (const schema of ['alpha', 'beta'] as const) {
      const rows = await effects(schema);
      expect(rows).toHaveLength(allIds.length);
      expect(rows.map((row) => row.event_id)).toEqual(allIds);
    }

    // Both relays took part, and each event was claimed once.
    const relayed = [first.app, second.app].map((app) => app.get(MessagingMetrics).counters().relay.events);
    expect(relayed[0] + relayed[1]).toBe(allIds.length);
    expect(relayed.every((count) => count > 0)).toBe(true);
    expect(await sql('SELECT * FROM messaging.dead_letters')).toEqual([]);
  }, 120_000);

  it('runs handlers under the event’s correlation, with the event as causation', async () => {
    const { app, producer } = await start({ messaging: messagingTestConfig() });
    const ids = await runWithCorrelation({ correlationId: 'req-7' }, () => producer.publish(payloads(1, 3)));
    await waitForIdle(app);
    const rows = await effects('alpha');
    expect(rows.map((row) => [row.event_id, row.correlation_id, row.causation_id])).toEqual(ids.map((id) => [id, 'req-7', id]));
  });

  it('gives a batch subscriber one transaction per batch, shared with its inbox rows', async () => {
    const { app, producer, control } = await start({ messaging: messagingTestConfig({ relayEnabled: false }) });
    await producer.publish(payloads(1, 230));
    // Relay by hand so the whole backlog arrives in one claim (batches of 50 for beta).
    await relayAll(app);
    expect(control.batchSizes).toEqual([50, 50, 50, 50, 30]);
    const rows = await effects('beta');
    const byTx = new Map<string, EffectRow[]>();
    rows.forEach((row) => byTx.set(row.tx, [...(byTx.get(row.tx) ?? []), row]));
    expect([...byTx.values()].map((group) => group.length).sort((a, b) => b - a)).toEqual([50, 50, 50, 50, 30]);
    // The inbox row of each event was written by the transaction that wrote its effect.
    const mismatched = await sql(
      `SELECT e.event_id FROM beta.effects e JOIN beta.inbox i ON i.event_id = e.event_id
        WHERE i.xmin::text::bigint <> (e.tx % 4294967296)`,
    );
    expect(mismatched).toEqual([]);
    expect(app.get(MessagingMetrics).counters().subscribers.find((counters) => counters.subscriber === 'beta.BetaSubscriber.applyMany')).toMatchObject({
      handled: 230,
      calls: 5,
    });
  });

  it('wakes a relay in another process through NOTIFY, without waiting for its poll', async () => {
    // The consumer polls once a minute: only the NOTIFY can bring the event in time.
    const consumer = await start({ messaging: messagingTestConfig({ relayPollIntervalMs: 60_000 }) });
    const producerOnly = await start({ messaging: messagingTestConfig({ relayEnabled: false }), consumers: [] });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the consumer's relay has had its first look
    await producerOnly.producer.publish(payloads(1, 5));
    await eventually(async () => (await effects('alpha')).length === 5, { timeoutMs: 10_000, message: 'the NOTIFY to wake the other relay' });
    expect(consumer.app.get(MessagingMetrics).counters().relay.events).toBe(5);
  });

  it('still delivers by polling when nothing listens', async () => {
    await start({ messaging: messagingTestConfig({ relayListen: false, relayPollIntervalMs: 100 }) });
    const producerOnly = await start({ messaging: messagingTestConfig({ relayEnabled: false }), consumers: [] });
    await producerOnly.producer.publish(payloads(1, 5));
    await eventually(async () => (await effects('beta')).length === 5, { message: 'the poll to find the events' });
  });

  it('relays straight to the transport and its observers: an app without a CQRS EventBus delivers and observes', async () => {
    const { producer, control } = await start({ messaging: messagingTestConfig(), withoutCqrs: true });
    const ids = await producer.publish(payloads(1, 3));
    await eventually(async () => (await effects('alpha')).length === 3 && (await effects('beta')).length === 3, { message: 'both subscribers to apply the events' });
    expect((await effects('alpha')).map((row) => row.event_id)).toEqual([...ids].sort());
    await eventually(() => control.observed.length === 3, { message: 'the @ObserveIntegrationEvent observer to see the relayed events' });
    expect(control.observed).toEqual(['t1', 't2', 't3']);
  });

  it('refuses to start with a plain @EventsHandler of an integration event (it would never be called), naming it', async () => {
    @Injectable()
    @EventsHandler(ThingHappened)
    class PlainThingHandler {
      handle(): void {
        // never called: relayed events do not go through the EventBus
      }
    }
    @Module({ providers: [PlainThingHandler] })
    class PlainHandlerModule {}
    const starting = start({ messaging: messagingTestConfig(), imports: [PlainHandlerModule], logger: false });
    await expect(starting).rejects.toThrow(ConfigurationError);
    await expect(starting).rejects.toThrow('PlainThingHandler is an @EventsHandler of the integration event ThingHappened');
  });

  it('hands each subscriber only the event types it subscribed to, and still empties the outbox', async () => {
    const { app, producer } = await start({ messaging: messagingTestConfig() });
    await producer.publishOther(7);
    await producer.publish(payloads(1, 2));
    await waitForIdle(app);
    expect(await effects('alpha')).toHaveLength(2);
    expect(await effects('beta')).toHaveLength(2);
  });

  it('finishes the batch in flight on shutdown, and the next instance picks up the rest exactly once', async () => {
    const control = new FixtureControl();
    control.betaDelayMs = 100;
    const { app, producer } = await start({ messaging: messagingTestConfig({ relayBatchSize: 200 }), control });
    const ids = await producer.publish(payloads(1, 600));
    await eventually(() => control.batchSizes.length > 0, { message: 'a batch to be in flight' });
    await app.close();
    apps.splice(apps.indexOf(app), 1);

    // Everything a handler started was committed before the database closed, and beta's cursor
    // stayed before what it had not finished: those events wait in the log, none half-handled.
    const started = control.batchSizes.reduce((sum, size) => sum + size, 0);
    expect((await effects('beta')).length).toBe(started);
    expect(started).toBeLessThan(600);
    const [{ waiting }] = await sql<{ waiting: number }>(
      `SELECT coalesce(sum(l.count), 0)::int AS waiting FROM messaging.event_log l
        WHERE l.position > (SELECT position FROM messaging.log_cursors WHERE subscriber = 'beta.BetaSubscriber.applyMany')`,
    );
    expect(waiting).toBeGreaterThan(0);

    const next = await start({ messaging: messagingTestConfig() });
    await waitForIdle(next.app);
    for (const schema of ['alpha', 'beta'] as const) expect((await effects(schema)).map((row) => row.event_id)).toEqual([...ids].sort());
  }, 30_000);

  it('prunes inbox rows only once both the event and its handling are older than the retention', async () => {
    const { app, producer } = await start({ messaging: messagingTestConfig({ inboxRetentionHours: 1 }) });
    await producer.publish(payloads(1, 30));
    await waitForIdle(app);
    const pruner = app.get(InboxPruner);
    expect(await pruner.pruneOnce()).toBe(0);
    expect(await pruner.pruneOnce(Date.now() + 2 * 3_600_000)).toBe(60); // 30 events x 2 durable subscribers
    expect(await sql('SELECT * FROM alpha.inbox UNION ALL SELECT * FROM beta.inbox')).toEqual([]);
  });

  it('lets a best-effort subscriber fall behind by dropping, never by growing', async () => {
    const control = new FixtureControl();
    control.bestEffortDelayMs = 20;
    const { app, producer } = await start({ messaging: messagingTestConfig({ bestEffortQueueCapacity: 5 }), control });
    await producer.publish(payloads(1, 100));
    await waitForIdle(app);
    await eventually(() => {
      const counters = app.get(MessagingMetrics).counters().subscribers.find((c) => c.subscriber === 'beta.BetaSubscriber.watch');
      return !!counters && counters.handled + counters.dropped === 100;
    }, { message: 'every best-effort event to be seen or dropped' });
    const counters = app.get(MessagingMetrics).counters().subscribers.find((c) => c.subscriber === 'beta.BetaSubscriber.watch');
    expect(counters?.dropped).toBeGreaterThan(0);
    expect(control.bestEffortSeen.length).toBe(counters?.handled);
    // The durable subscribers were not held back by the slow one.
    expect(await effects('beta')).toHaveLength(100);
  });
});

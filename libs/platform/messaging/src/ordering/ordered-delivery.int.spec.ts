// Issue 13 with the in-process transport (real PostgreSQL): every durable subscriber applies each
// key's events in keySeq order, each once, whatever runs beside it (concurrent producers with
// rollbacks, two relaying instances reading one log, failing handlers, dead letters, killed
// connections), and a failing key holds back only its own later events.
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { createTestDatabase, eventually, sqlOnClient, terminateBackends, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { DeadLetters } from '../dead-letters/dead-letters';
import { MessagingMetrics, type MessagingBacklog } from '../metrics/messaging-metrics';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads } from '../test-support/fixture-events';
import { createOrderedApp, type OrderedApp, type OrderedAppOptions } from '../test-support/ordered-app';
import { appliedSeqs, caughtUp, orderProblems, sentByKey } from '../test-support/ordered-checks';
import { ORDERED_SUBSCRIBERS, OrderedControl, type OrderedConsumer } from '../test-support/ordered-events';
import { OrderedProducer, orderedFixtureModules } from '../test-support/ordered-modules';
import { orderingKeys, runProducers } from '../test-support/ordered-workload';
import { messagingTestConfig, waitForIdle } from '../testing';
import { InProcessTransport } from '../transport/in-process.transport';

describe('Ordered delivery per key, in-process transport (real PostgreSQL)', () => {
  let db: TestDatabase;
  let client: Client;
  const apps: INestApplicationContext[] = [];

  const start = async (options: Omit<OrderedAppOptions, 'database'>): Promise<OrderedApp> => {
    const started = await createOrderedApp({ database: databaseTestConfig(db.url), ...options });
    apps.push(started.app);
    return started;
  };
  const sql = sqlOnClient(() => client);
  const count = async (query: string, parameters: unknown[] = []): Promise<number> => (await sql<{ n: number }>(query, parameters))[0].n;
  /** Every log reader of every app has passed what the log holds now (none is mid-delivery). */
  const settled = (): Promise<void[]> => Promise.all(apps.map((app) => app.get(InProcessTransport, { strict: false }).settled()));
  const heldOf = (consumer: OrderedConsumer, key: string): Promise<number> =>
    count('SELECT count(*)::int AS n FROM messaging.retries WHERE subscriber = $1 AND ordering_key = $2 AND held', [ORDERED_SUBSCRIBERS[consumer].subscriber, key]);
  const deadLetterOf = async (consumer: OrderedConsumer): Promise<{ id: string } | undefined> =>
    (await sql<{ id: string }>('SELECT id FROM messaging.dead_letters WHERE subscriber = $1', [ORDERED_SUBSCRIBERS[consumer].subscriber]))[0];
  /** Order of application of the `label`-matching events of other keys than `key`, and of `key`'s event `keySeq`. */
  const appliedOrder = async (consumer: OrderedConsumer, key: string, keySeq: number, otherLabels: string) => {
    const table = `"${ORDERED_SUBSCRIBERS[consumer].schema}".applied`;
    const [row] = await sql<{ others_last: string; others: number; stuck: string }>(
      `SELECT (SELECT max(n) FROM ${table} WHERE ordering_key <> $1 AND label LIKE $3)::text AS others_last,
              (SELECT count(*)::int FROM ${table} WHERE ordering_key <> $1 AND label LIKE $3) AS others,
              (SELECT n FROM ${table} WHERE ordering_key = $1 AND key_seq = $2)::text AS stuck`,
      [key, keySeq, otherLabels],
    );
    return { othersLast: Number(row.others_last), others: row.others, stuck: Number(row.stuck) };
  };

  /** Waits until the backlog shows `expected` (parked rows of keys that already moved on are removed by the retry poller soon after). */
  const waitForBacklog = async (app: INestApplicationContext, expected: Partial<MessagingBacklog>): Promise<void> => {
    let last: MessagingBacklog | undefined;
    const fields = Object.keys(expected) as (keyof MessagingBacklog)[];
    await eventually(
      async () => {
        last = await app.get(MessagingMetrics).backlog();
        return fields.every((field) => last?.[field] === expected[field]);
      },
      { message: `the backlog to show ${JSON.stringify(expected)}` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last seen ${JSON.stringify(last)}`);
    });
  };

  beforeEach(async () => {
    db = await createTestDatabase('ordered');
    client = new Client({ connectionString: db.url, application_name: 'ordered-test' });
    await client.connect();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await client?.end();
    await db?.drop();
  });

  it('concurrent producers with rollbacks, two relaying instances, failing and dead-lettered keys: each key in keySeq order, once; a stuck key holds back only itself', async () => {
    const keys = orderingKeys('k', 50);
    const control = new OrderedControl();
    // Fail for a few attempts, then succeed (within HANDLER_MAX_ATTEMPTS=4)…
    control.poison.serial.set('k03#2', 2).set('k07#5', 3);
    control.poison.batched.set('k11#3', 2).set('k07#5', 1);
    // …and fail for ever: dead-lettered, and its key held ('hold', the default) until re-driven.
    control.poison.serial.set('k20#4', Infinity);
    control.poison.batched.set('k20#4', Infinity);
    const messaging = messagingTestConfig({ handlerMaxAttempts: 4, relayBatchSize: 100 });
    const one = await start({ control, messaging });
    const two = await start({ control, messaging });

    // Every key gets keySeq 1..5 first (in one transaction), so the failing events exist.
    await one.producer.publish(keys.flatMap((key) => Array.from({ length: 5 }, (_, index) => ({ key, label: `seed-${index}` }))));
    const producers = [one.producer, two.producer, one.producer, two.producer];
    const early = await runProducers(producers, { keys, phase: 'early', rounds: 20, rollbackEvery: 4 });
    expect(early.rolledBack).toBeGreaterThan(0);

    // The stuck event reaches the dead letters for both subscribers…
    await eventually(async () => (await deadLetterOf('serial')) !== undefined && (await deadLetterOf('batched')) !== undefined, {
      timeoutMs: 40_000,
      message: 'k20#4 to be dead-lettered by both subscribers',
    });
    // …and events appended after that, of every key, flow past it: all but k20 catch up while
    // k20 stays at keySeq 3, its later events parked as held.
    await runProducers(producers, { keys, phase: 'late', rounds: 20, rollbackEvery: 4 });
    await eventually(async () => (await caughtUp(sql, 'serial', ['k20'])) && (await caughtUp(sql, 'batched', ['k20'])), {
      timeoutMs: 40_000,
      message: 'every key but k20 to be applied by both subscribers',
    });
    await settled();
    const k20 = (await sentByKey(sql)).get('k20')?.ids.length ?? 0;
    expect(k20).toBeGreaterThan(5);
    await waitForBacklog(one.app, { heldKeys: 2, heldEvents: 2 * (k20 - 4), deadLetters: 2 });
    for (const consumer of ['serial', 'batched'] as const) {
      expect(await appliedSeqs(sql, consumer, 'k20')).toEqual([1, 2, 3]);
      expect(await heldOf(consumer, 'k20')).toBe(k20 - 4);
    }

    // Re-driven once its cause is fixed: k20 completes in order, after everything above.
    control.poison.serial.delete('k20#4');
    control.poison.batched.delete('k20#4');
    for (const consumer of ['serial', 'batched'] as const) {
      await one.app.get(DeadLetters).replay((await deadLetterOf(consumer))?.id as string);
    }
    await waitForIdle(one.app, { timeoutMs: 30_000 });
    await settled();
    for (const consumer of ['serial', 'batched'] as const) {
      expect({ consumer, problems: await orderProblems(sql, consumer) }).toEqual({ consumer, problems: [] });
      const order = await appliedOrder(consumer, 'k20', 4, 'late-%');
      expect(order.others).toBeGreaterThan(0);
      expect(order.stuck).toBeGreaterThan(order.othersLast);
    }
    // The failures were real, and each committed event was relayed once, by both instances between them.
    expect(control.attemptsOf('serial', 'k03#2')).toBeGreaterThanOrEqual(3);
    expect(control.attemptsOf('serial', 'k07#5')).toBeGreaterThanOrEqual(4);
    expect(control.attemptsOf('batched', 'k11#3')).toBeGreaterThanOrEqual(3);
    expect(control.attemptsOf('serial', 'k20#4')).toBeGreaterThanOrEqual(5);
    const relayed = [one, two].map(({ app }) => app.get(MessagingMetrics).counters().relay.events);
    expect(relayed[0] + relayed[1]).toBe(await count('SELECT count(*)::int AS n FROM ordered_producer.sent'));
    expect(relayed.every((events) => events > 0)).toBe(true);
    expect(await count('SELECT count(*)::int AS n FROM messaging.dead_letters')).toBe(0);
  }, 120_000);

  it('a key whose event keeps failing in retries holds back only its own later events, which follow in order once it succeeds', async () => {
    const keys = orderingKeys('g', 10);
    const control = new OrderedControl();
    control.poison.serial.set('g03#2', Infinity);
    control.poison.batched.set('g03#2', Infinity);
    const { app, producer } = await start({ control, messaging: messagingTestConfig({ handlerMaxAttempts: 1000, retryMaxDelayMs: 100 }) });
    await producer.publish(keys.flatMap((key) => [1, 2, 3].map((index) => ({ key, label: `early-${index}` }))));
    await eventually(() => control.attemptsOf('serial', 'g03#2') >= 2 && control.attemptsOf('batched', 'g03#2') >= 2, { message: 'g03#2 to fail and be retried' });

    // Appended while g03#2 is failing: every other key's events are applied, g03's wait.
    await producer.publish(keys.flatMap((key) => [1, 2, 3].map((index) => ({ key, label: `late-${index}` }))));
    await eventually(async () => (await caughtUp(sql, 'serial', ['g03'])) && (await caughtUp(sql, 'batched', ['g03'])), {
      message: 'every key but g03 to be applied',
    });
    await waitForBacklog(app, { heldKeys: 2, heldEvents: 8, deadLetters: 0 });
    const attempts = control.attemptsOf('serial', 'g03#2');
    for (const consumer of ['serial', 'batched'] as const) {
      expect(await appliedSeqs(sql, consumer, 'g03')).toEqual([1]);
      expect(await heldOf(consumer, 'g03')).toBe(4);
    }
    // Still being retried (not dead, not forgotten) while the others went past it.
    await eventually(() => control.attemptsOf('serial', 'g03#2') >= attempts + 2, { message: 'g03#2 to be retried again' });

    control.poison.serial.delete('g03#2');
    control.poison.batched.delete('g03#2');
    await waitForIdle(app);
    await settled();
    for (const consumer of ['serial', 'batched'] as const) {
      expect({ consumer, problems: await orderProblems(sql, consumer) }).toEqual({ consumer, problems: [] });
      const order = await appliedOrder(consumer, 'g03', 2, 'late-%');
      expect(order.others).toBe(27);
      expect(order.stuck).toBeGreaterThan(order.othersLast);
    }
  }, 60_000);

  it("a dead-lettered key: 'hold' parks its later events until the dead letter is re-driven, then applies them in order; 'release' lets them flow and applies the re-driven one late, once", async () => {
    const keys = orderingKeys('d', 6);
    const control = new OrderedControl();
    control.poison.serial.set('d02#3', Infinity);
    control.poison.releasing.set('d02#3', Infinity);
    const { app, producer } = await start({ control, consumers: ['serial', 'releasing'], messaging: messagingTestConfig({ handlerMaxAttempts: 3 }) });
    const publishRound = (round: number, events = 3) =>
      producer.publish(keys.flatMap((key) => Array.from({ length: events }, (_, index) => ({ key, label: `round${round}-${index}` }))));
    await publishRound(1, 6);
    await eventually(async () => (await deadLetterOf('serial')) !== undefined && (await deadLetterOf('releasing')) !== undefined, {
      message: 'd02#3 to be dead-lettered by both subscribers',
    });
    await publishRound(2);
    await eventually(async () => (await caughtUp(sql, 'serial', ['d02'])) && (await caughtUp(sql, 'releasing', ['d02'])), { message: 'the other keys' });

    // 'hold': d02 stops at 2, its later events parked and counted as held.
    await eventually(async () => (await heldOf('serial', 'd02')) === 6, { message: "serial's d02#4..9 to be held" });
    expect(await appliedSeqs(sql, 'serial', 'd02')).toEqual([1, 2]);
    // 'release': d02 went on without its dead letter; nothing of it is held.
    await eventually(async () => (await appliedSeqs(sql, 'releasing', 'd02')).length === 8, { message: "releasing's d02#4..9" });
    expect(await appliedSeqs(sql, 'releasing', 'd02')).toEqual([1, 2, 4, 5, 6, 7, 8, 9]);
    expect(await heldOf('releasing', 'd02')).toBe(0);
    await waitForBacklog(app, { heldKeys: 1, heldEvents: 6, deadLetters: 2 });

    // They stay parked: more of d02 joins them, still nothing applied past 2.
    await publishRound(3);
    await eventually(async () => (await caughtUp(sql, 'serial', ['d02'])) && (await appliedSeqs(sql, 'releasing', 'd02')).length === 11, { message: 'round 3' });
    await eventually(async () => (await heldOf('serial', 'd02')) === 9, { message: "serial's d02#10..12 to be held too" });
    expect(await appliedSeqs(sql, 'serial', 'd02')).toEqual([1, 2]);

    control.poison.serial.delete('d02#3');
    control.poison.releasing.delete('d02#3');
    await app.get(DeadLetters).replay((await deadLetterOf('serial'))?.id as string);
    await eventually(async () => (await appliedSeqs(sql, 'serial', 'd02')).length === 12, { message: "serial's d02 after the re-drive" });
    expect(await appliedSeqs(sql, 'serial', 'd02')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(await heldOf('serial', 'd02')).toBe(0);

    await app.get(DeadLetters).replay((await deadLetterOf('releasing'))?.id as string);
    await waitForIdle(app);
    await settled();
    expect(await appliedSeqs(sql, 'releasing', 'd02')).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 3]);
    expect(await orderProblems(sql, 'serial')).toEqual([]);
    expect(await orderProblems(sql, 'releasing', { skip: ['d02'] })).toEqual([]);
    expect(await app.get(MessagingMetrics).backlog()).toMatchObject({ heldKeys: 0, heldEvents: 0, deadLetters: 0, retriesPending: 0 });
  }, 60_000);

  it('a subscriber that first starts while keyed events wait in the outbox applies them: they come after its cursor, like the unkeyed events of that moment', async () => {
    // Failed before d9a614d: the first start copied messaging.ordering_keys (numbers taken by
    // every committed append, relayed or not) into the subscriber's key progress, so the keyed
    // events still in the outbox, which its log cursor does deliver, were dropped as already seen.
    const keys = orderingKeys('f', 5);
    const control = new OrderedControl();
    const startMixed = async (options: { relayEnabled: boolean; consumers: boolean }) => {
      const started = await createFixtureApp({
        database: databaseTestConfig(db.url),
        messaging: messagingTestConfig({ relayEnabled: options.relayEnabled }),
        consumers: options.consumers ? ['alpha'] : [],
        imports: orderedFixtureModules(control, options.consumers ? ['serial'] : []),
      });
      apps.push(started.app);
      return { app: started.app, things: started.producer, moves: started.app.get(OrderedProducer, { strict: false }) };
    };
    // Committed while nothing relays: unkeyed events for alpha, keyed ones for serial.
    const producerOnly = await startMixed({ relayEnabled: false, consumers: false });
    await producerOnly.things.publish(payloads(1, 15));
    await producerOnly.moves.publish(keys.flatMap((key) => [0, 1, 2].map((index) => ({ key, label: `waiting-${index}` }))));
    const { app, moves } = await startMixed({ relayEnabled: true, consumers: true });
    await moves.publish(keys.map((key) => ({ key, label: 'after-start' })));
    await waitForIdle(app);
    await settled();
    expect({ alphaApplied: await count('SELECT count(*)::int AS n FROM alpha.effects'), serial: await orderProblems(sql, 'serial') }).toEqual({
      alphaApplied: 15,
      serial: [],
    });
  });

  it('keeps each key in order and applies each event once while the apps’ connections are killed mid-stream', async () => {
    const keys = orderingKeys('c', 50);
    const messaging = messagingTestConfig();
    const one = await start({ messaging, logger: false });
    const two = await start({ messaging, logger: false });
    const applied = (): Promise<number> =>
      count(`SELECT (SELECT count(*) FROM ordered_serial.applied) + (SELECT count(*) FROM ordered_batched.applied) AS n`).then(Number);

    let producing = true;
    const load = runProducers([one.producer, two.producer, one.producer], { keys, phase: 'kill', stop: () => !producing, rollbackEvery: 7, tolerateFailures: true });
    let killed = 0;
    let killedInTransaction = 0;
    for (let round = 0; round < 3; round += 1) {
      const before = await applied();
      await eventually(async () => (await applied()) >= before + 80, { timeoutMs: 30_000, message: `delivery to go on before kill ${round + 1}` });
      // This database's connections only: the server is shared with other test files.
      const ended = await terminateBackends(client, db.name, { applicationName: 'modulith%' });
      killed += ended.terminated;
      killedInTransaction += ended.inTransaction;
    }
    producing = false;
    const totals = await load;
    expect(totals.committed).toBeGreaterThan(100);

    await eventually(async () => (await caughtUp(sql, 'serial')) && (await caughtUp(sql, 'batched')), { timeoutMs: 40_000, message: 'both subscribers to catch up' });
    await waitForIdle(one.app, { timeoutMs: 30_000 });
    await settled();
    expect(await orderProblems(sql, 'serial')).toEqual([]);
    expect(await orderProblems(sql, 'batched')).toEqual([]);
    expect(killed).toBeGreaterThan(6);
    expect(killedInTransaction).toBeGreaterThan(0);
    expect(await count('SELECT count(*)::int AS n FROM messaging.dead_letters')).toBe(0);
  }, 120_000);
});

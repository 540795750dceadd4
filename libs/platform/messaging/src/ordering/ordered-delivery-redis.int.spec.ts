// Issue 13 over Redis Streams (real Redis and PostgreSQL): replicas of each subscribing module
// compete in its consumer group, so one key's events reach different processes, and entries a
// dead consumer left pending are taken over late; each subscriber still applies every key's
// events in keySeq order, each once.
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { createTestDatabase, eventually, sqlOnClient, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import type { MessagingConfig } from '../messaging.config';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads } from '../test-support/fixture-events';
import { createOrderedApp, type OrderedApp, type OrderedAppOptions } from '../test-support/ordered-app';
import { caughtUp, orderProblems } from '../test-support/ordered-checks';
import { Moved, ORDERED_SUBSCRIBERS, OrderedControl, type OrderedConsumer } from '../test-support/ordered-events';
import { OrderedProducer, orderedFixtureModules } from '../test-support/ordered-modules';
import { orderingKeys, runProducers } from '../test-support/ordered-workload';
import { deleteRedisKeys, messagingTestConfig, redisTestPrefix, requireRedis, waitForIdle } from '../testing';
import { TRANSPORT } from '../transport/transport';
import type { RedisStreamsTransport } from '../transport/redis/redis-streams.transport';
import { startRedisTestServer, startSilentDropProxy, type RedisTestServer, type SilentDropProxy } from '../transport/redis/redis-test-server';
import { streamKey } from '../transport/redis/stream-entries';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const CONSUMERS: readonly OrderedConsumer[] = ['serial', 'batched'];

describe('Ordered delivery per key, Redis Streams transport (real Redis and PostgreSQL)', () => {
  let db: TestDatabase;
  let client: Client;
  let redis: Redis;
  let prefix: string;
  let server: RedisTestServer | undefined;
  let proxy: SilentDropProxy | undefined;
  const apps: INestApplicationContext[] = [];

  const redisConfig = (overrides: Partial<MessagingConfig> = {}): Partial<MessagingConfig> =>
    messagingTestConfig({ eventTransport: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix, redisClaimIdleMs: 400, ...overrides });
  const start = async (options: Omit<OrderedAppOptions, 'database'>): Promise<OrderedApp> => {
    const started = await createOrderedApp({ database: databaseTestConfig(db.url), ...options });
    apps.push(started.app);
    return started;
  };
  const sql = sqlOnClient(() => client);
  const handled = (app: INestApplicationContext, consumer: OrderedConsumer): number =>
    app.get(MessagingMetrics).counters().subscribers.find((counters) => counters.subscriber === ORDERED_SUBSCRIBERS[consumer].subscriber)?.handled ?? 0;
  const reclaimed = (app: INestApplicationContext): number => app.get<RedisStreamsTransport>(TRANSPORT, { strict: false }).stats().reclaimed;
  const expectEveryKeyInOrderOnce = async (): Promise<void> => {
    await eventually(async () => (await caughtUp(sql, 'serial')) && (await caughtUp(sql, 'batched')), { timeoutMs: 40_000, message: 'both subscribers to catch up' }).catch(
      async (error: Error) => {
        const problems = [...(await orderProblems(sql, 'serial')), ...(await orderProblems(sql, 'batched'))].slice(0, 10);
        const parked = await sql('SELECT subscriber, ordering_key, key_seq, held, attempts, next_attempt_at, last_error FROM messaging.retries ORDER BY 1, 2, 3 LIMIT 10');
        throw new Error(`${error.message}: ${JSON.stringify({ problems, parked, backlog: await apps[0].get(MessagingMetrics).backlog() })}`);
      },
    );
    await Promise.all(apps.map((app) => waitForIdle(app, { timeoutMs: 30_000 })));
    for (const consumer of CONSUMERS) expect({ consumer, problems: await orderProblems(sql, consumer) }).toEqual({ consumer, problems: [] });
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM messaging.dead_letters'))[0].n).toBe(0);
  };

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    redis = new Redis(REDIS_URL);
  });

  beforeEach(async () => {
    prefix = redisTestPrefix('ordered');
    db = await createTestDatabase('ordered_redis');
    client = new Client({ connectionString: db.url, application_name: 'ordered-redis-test' });
    await client.connect();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await proxy?.close();
    await server?.destroy();
    proxy = server = undefined;
    await deleteRedisKeys(REDIS_URL, prefix);
    await client?.end();
    await db?.drop();
  });

  afterAll(() => {
    redis?.disconnect();
  });

  it('two replicas compete in each consumer group and take over the entries a dead consumer left pending: each key in keySeq order, once', async () => {
    const keys = orderingKeys('r', 50);
    const control = new OrderedControl();
    control.poison.serial.set('r05#3', 2);
    control.poison.batched.set('r09#3', 2);
    // The subscribers have started once (their groups and key progress exist), and stopped.
    const earlier = await start({ control, messaging: redisConfig() });
    await earlier.app.close();
    apps.splice(apps.indexOf(earlier.app), 1);
    const producerOnly = await start({ consumers: [], messaging: redisConfig() });
    const stream = streamKey(prefix, Moved.type);

    // Every key's first three events, relayed to the stream before any subscriber runs…
    for (let index = 0; index < 3; index += 1) await producerOnly.producer.publish(keys.map((key) => ({ key, label: `first-${index}` })));
    await eventually(async () => (await redis.xlen(stream)) === 3 * keys.length, { message: 'the relay to append to the stream' });
    // …and a consumer of each group reads the first 60 and dies before acknowledging them: the
    // replicas get the keys' later events first and must wait for these to be reclaimed.
    for (const consumer of CONSUMERS) {
      await redis.xreadgroup('GROUP', ORDERED_SUBSCRIBERS[consumer].schema, 'killed-consumer', 'COUNT', 60, 'STREAMS', stream, '>');
      expect(Number(((await redis.xpending(stream, ORDERED_SUBSCRIBERS[consumer].schema)) as [number])[0])).toBe(60);
    }

    const one = await start({ control, messaging: redisConfig() });
    const two = await start({ control, messaging: redisConfig() });
    const totals = await runProducers([one.producer, two.producer, producerOnly.producer], { keys, phase: 'live', rounds: 12, rollbackEvery: 4 });
    expect(totals.rolledBack).toBeGreaterThan(0);

    await expectEveryKeyInOrderOnce();
    expect(reclaimed(one.app) + reclaimed(two.app)).toBeGreaterThanOrEqual(2 * 60);
    for (const consumer of CONSUMERS) {
      expect(Number(((await redis.xpending(stream, ORDERED_SUBSCRIBERS[consumer].schema)) as [number])[0])).toBe(0);
      expect({ consumer, one: handled(one.app, consumer) > 0, two: handled(two.app, consumer) > 0 }).toEqual({ consumer, one: true, two: true });
    }
    expect(control.attemptsOf('serial', 'r05#3')).toBeGreaterThanOrEqual(3);
    expect(control.attemptsOf('batched', 'r09#3')).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('a declared module that first starts after keyed events reached its stream applies them all, as it does unkeyed ones', async () => {
    // The supported path (README, Ordering > Limits): every process declares the deployment's
    // durable subscribers (declaredDurableSubscribers), so `serial` is registered when the
    // producer first starts, and its keys count from then, not from its own first start. (A
    // subscriber nobody declared starts its keys after the events relayed before its first start,
    // while its new Redis group still reads the older unkeyed entries: a documented limit.)
    const keys = orderingKeys('f', 5);
    const control = new OrderedControl();
    const declared = [{ subscriber: ORDERED_SUBSCRIBERS.serial.subscriber, eventType: Moved.type }];
    const startMixed = async (consumers: boolean) => {
      const started = await createFixtureApp({
        database: databaseTestConfig(db.url),
        messaging: redisConfig({ declaredDurableSubscribers: declared }),
        consumers: consumers ? ['alpha'] : [],
        imports: orderedFixtureModules(control, consumers ? ['serial'] : []),
      });
      apps.push(started.app);
      return { app: started.app, things: started.producer, moves: started.app.get(OrderedProducer, { strict: false }) };
    };
    // Relayed to the streams before the subscribing modules ever ran: unkeyed for alpha, keyed for serial.
    const producerOnly = await startMixed(false);
    await producerOnly.things.publish(payloads(1, 15));
    await producerOnly.moves.publish(keys.flatMap((key) => [0, 1, 2].map((index) => ({ key, label: `before-${index}` }))));
    await eventually(async () => (await redis.xlen(streamKey(prefix, Moved.type))) === 15, { message: 'the relay to append to the stream' });
    const { app, moves } = await startMixed(true);
    await moves.publish(keys.map((key) => ({ key, label: 'after' })));
    await eventually(async () => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM ordered_serial.applied'))[0].n === 20, {
      message: 'serial to apply every keyed event of its stream',
    });
    await waitForIdle(app);
    const alphaApplied = (await sql<{ n: number }>('SELECT count(*)::int AS n FROM alpha.effects'))[0].n;
    expect({ alphaApplied, serial: await orderProblems(sql, 'serial') }).toEqual({ alphaApplied: 15, serial: [] });
  }, 60_000);

  it('a replica cut off from Redis three times mid-stream (its connections black-holed, its calls timing out): each key in keySeq order, once', async () => {
    server = await startRedisTestServer();
    proxy = await startSilentDropProxy(server.port);
    const keys = orderingKeys('b', 50);
    const control = new OrderedControl();
    const cutOff = await start({ control, logger: false, messaging: redisConfig({ redisUrl: proxy.url, redisCommandTimeoutMs: 500 }) });
    const direct = await start({ control, logger: false, messaging: redisConfig({ redisUrl: server.url, redisCommandTimeoutMs: 500 }) });
    const applied = async (): Promise<number> =>
      Number((await sql<{ n: string }>('SELECT (SELECT count(*) FROM ordered_serial.applied) + (SELECT count(*) FROM ordered_batched.applied) AS n'))[0].n);

    let producing = true;
    const load = runProducers([cutOff.producer, direct.producer, direct.producer], { keys, phase: 'cut', stop: () => !producing, rollbackEvery: 6 });
    for (let round = 0; round < 3; round += 1) {
      const before = await applied();
      await eventually(async () => (await applied()) >= before + 150, { timeoutMs: 30_000, message: `delivery to go on before cut ${round + 1}` });
      proxy.blackHole();
    }
    producing = false;
    await load;

    await expectEveryKeyInOrderOnce();
    for (const consumer of CONSUMERS) {
      expect({ consumer, cutOff: handled(cutOff.app, consumer) > 0, direct: handled(direct.app, consumer) > 0 }).toEqual({ consumer, cutOff: true, direct: true });
    }
  }, 90_000);
});

import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import type { MessagingConfig } from '../../messaging.config';
import { MessagingMetrics } from '../../metrics/messaging-metrics';
import { OutboxRetention } from '../../outbox/outbox-retention';
import { createFixtureApp } from '../../test-support/fixture-app';
import { FixtureControl, payloads, ThingHappened } from '../../test-support/fixture-events';
import { messagingTestConfig, waitForIdle } from '../../testing';
import { TRANSPORT } from '../transport';
import { RedisStreamsTransport } from './redis-streams.transport';
import { deleteRedisKeys, redisTestPrefix, requireRedis, startRedisTestServer } from './redis-test-server';
import { streamKey } from './stream-entries';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('Redis Streams transport (real Redis and PostgreSQL)', () => {
  let db: TestDatabase;
  let redis: Redis;
  let prefix: string;
  const apps: INestApplicationContext[] = [];

  const redisConfig = (overrides: Partial<MessagingConfig> = {}): Partial<MessagingConfig> =>
    messagingTestConfig({ eventTransport: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix, redisClaimIdleMs: 400, ...overrides });
  const start = async (options: Omit<Parameters<typeof createFixtureApp>[0], 'database'>) => {
    const started = await createFixtureApp({ database: databaseTestConfig(db.url), ...options });
    apps.push(started.app);
    return started;
  };
  const sql = sqlOneShot(() => db.url);
  const count = async (table: string): Promise<number> => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
  const distinctEffects = async (schema: 'alpha' | 'beta'): Promise<number> =>
    (await sql<{ n: number }>(`SELECT count(DISTINCT event_id)::int AS n FROM ${schema}.effects`))[0].n;
  const stream = (): string => streamKey(prefix, ThingHappened.type);
  const pending = async (group: string): Promise<number> => Number(((await redis.xpending(stream(), group)) as [number])[0]);

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    db = await createTestDatabase('redis_transport');
    redis = new Redis(REDIS_URL);
  });

  beforeEach(() => {
    prefix = redisTestPrefix('transport');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deleteRedisKeys(REDIS_URL, prefix);
    await sql(
      'TRUNCATE alpha.effects, alpha.inbox, beta.effects, beta.inbox, messaging.outbox, messaging.outbox_delivered, messaging.retries, messaging.dead_letters',
    ).catch(() => undefined);
  });

  afterAll(async () => {
    redis?.disconnect();
    await db?.drop();
  });

  it('gives every module each event once, lets replicas of a module compete, and broadcasts best-effort events to every instance', async () => {
    const one = await start({ messaging: redisConfig() });
    const two = await start({ messaging: redisConfig() });
    expect(one.app.get(TRANSPORT)).toBeInstanceOf(RedisStreamsTransport);
    one.control.betaDelayMs = two.control.betaDelayMs = 20;
    for (let round = 0; round < 4; round += 1) await one.producer.publish(payloads(round * 100 + 1, 100));
    await waitForIdle(one.app, { timeoutMs: 30_000 });

    expect(await count('alpha.effects')).toBe(400);
    expect(await distinctEffects('alpha')).toBe(400);
    expect(await count('beta.effects')).toBe(400);
    expect(await distinctEffects('beta')).toBe(400);
    const handled = (app: INestApplicationContext, subscriber: string): number =>
      app.get(MessagingMetrics).counters().subscribers.find((counters) => counters.subscriber === subscriber)?.handled ?? 0;
    for (const subscriber of ['alpha.AlphaSubscriber.apply', 'beta.BetaSubscriber.applyMany']) {
      expect(handled(one.app, subscriber) + handled(two.app, subscriber)).toBe(400);
      expect(handled(one.app, subscriber)).toBeGreaterThan(0);
      expect(handled(two.app, subscriber)).toBeGreaterThan(0);
    }
    // Broadcast: both instances saw all 400, in publish order.
    const all = Array.from({ length: 400 }, (_, index) => index + 1);
    await eventually(() => one.control.bestEffortSeen.length === 400 && two.control.bestEffortSeen.length === 400, { message: 'broadcast to both' });
    expect(one.control.bestEffortSeen).toEqual(all);
    expect(two.control.bestEffortSeen).toEqual(all);
    // Observers see relayed events in the relaying process, as with the in-process transport.
    expect(one.control.observed.length + two.control.observed.length).toBe(400);
  }, 60_000);

  it('acknowledges an entry only after the handler’s transaction committed', async () => {
    const control = new FixtureControl();
    control.betaDelayMs = 1500;
    const { producer, app } = await start({ messaging: redisConfig(), control });
    await producer.publish(payloads(1, 10));
    await eventually(() => control.batchSizes.length > 0, { message: 'beta to take the batch' });
    expect(await pending('beta')).toBe(10);
    expect(await count('beta.effects')).toBe(0);
    expect((await app.get(MessagingMetrics).backlog()).transportPending).toBeGreaterThanOrEqual(10);
    await eventually(async () => (await count('beta.effects')) === 10, { message: 'the slow batch to commit' });
    await eventually(async () => (await pending('beta')) === 0, { message: 'the ack after the commit' });
    await waitForIdle(app);
  }, 30_000);

  it('takes over the entries a dead consumer left pending (XAUTOCLAIM after REDIS_CLAIM_IDLE_MS)', async () => {
    // A producer-only instance relays 20 events; a "consumer" of group alpha reads them and dies.
    const producerOnly = await start({ messaging: redisConfig(), consumers: [] });
    await producerOnly.producer.publish(payloads(1, 20));
    await eventually(async () => (await redis.xlen(stream())) === 20, { message: 'the relay to append to the stream' });
    await redis.xgroup('CREATE', stream(), 'alpha', '0');
    await redis.xreadgroup('GROUP', 'alpha', 'dead-consumer', 'COUNT', 20, 'STREAMS', stream(), '>');
    expect(await pending('alpha')).toBe(20);
    expect((await producerOnly.app.get(MessagingMetrics).backlog()).transportPending).toBe(20);

    const live = await start({ messaging: redisConfig(), consumers: ['alpha'] });
    await eventually(async () => (await count('alpha.effects')) === 20, { timeoutMs: 10_000, message: 'the live consumer to reclaim and handle' });
    await eventually(async () => (await pending('alpha')) === 0, { message: 'the reclaimed entries to be acknowledged' });
    expect((live.app.get(TRANSPORT) as RedisStreamsTransport).stats().reclaimed).toBe(20);
    expect(await distinctEffects('alpha')).toBe(20);
    expect((await live.app.get(MessagingMetrics).backlog()).transportPending).toBe(0);
  }, 30_000);

  it('retries and dead-letters as in-process, and acknowledges the stream once the event is parked', async () => {
    const control = new FixtureControl();
    control.poison.alpha.add('t3');
    const { producer, app } = await start({ messaging: redisConfig({ handlerMaxAttempts: 2 }), control });
    await producer.publish(payloads(1, 5));
    await waitForIdle(app, { timeoutMs: 15_000 });
    expect(await count('alpha.effects')).toBe(4);
    expect(await count('beta.effects')).toBe(5);
    expect(control.attempts.get('alpha:t3')).toHaveLength(2);
    expect(await sql('SELECT subscriber, attempts FROM messaging.dead_letters')).toEqual([{ subscriber: 'alpha.AlphaSubscriber.apply', attempts: 2 }]);
    expect(await pending('alpha')).toBe(0);
  }, 30_000);

  it('keeps events in the outbox while Redis is away and delivers them once it is back, without a hand on it', async () => {
    const server = await startRedisTestServer({ appendOnly: false });
    try {
      const { producer, app } = await start({ messaging: redisConfig({ redisUrl: server.url }), logger: false });
      await producer.publish(payloads(1, 10));
      await waitForIdle(app);
      await server.stop();
      await producer.publish(payloads(11, 10)); // the producer's transaction does not need Redis
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await count('messaging.outbox')).toBe(10);
      expect((await app.get(MessagingMetrics).backlog()).transportPending).toBeNull();
      await server.start(); // empty: the groups are created again
      await waitForIdle(app, { timeoutMs: 20_000 });
      expect(await distinctEffects('alpha')).toBe(20);
      expect(await distinctEffects('beta')).toBe(20);
    } finally {
      await server.destroy();
    }
  }, 40_000);

  it('recovers events Redis lost by a re-drive from the outbox retention window', async () => {
    const since = new Date(Date.now() - 1000);
    const producerOnly = await start({ messaging: redisConfig({ outboxRetentionHours: 1 }), consumers: [] });
    await producerOnly.producer.publish(payloads(1, 30));
    await eventually(async () => (await count('messaging.outbox')) === 0, { message: 'the relay to hand the events to Redis' });
    expect(await count('messaging.outbox_delivered')).toBe(30);
    await deleteRedisKeys(REDIS_URL, prefix); // what a restarted Redis without persistence does

    const consumer = await start({ messaging: redisConfig({ outboxRetentionHours: 1 }), consumers: ['alpha', 'beta'] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await count('alpha.effects')).toBe(0);
    const retention = consumer.app.get(OutboxRetention);
    expect(await retention.redriveFrom(since)).toBe(30);
    await waitForIdle(consumer.app, { timeoutMs: 15_000 });
    await eventually(async () => (await count('alpha.effects')) === 30 && (await count('beta.effects')) === 30, { message: 'the re-driven events' });
    // Again: every inbox skips them now.
    expect(await retention.redriveFrom(since)).toBe(30);
    await waitForIdle(consumer.app, { timeoutMs: 15_000 });
    expect(await count('alpha.effects')).toBe(30);
    expect(await count('beta.effects')).toBe(30);
  }, 40_000);
});

import { Logger, type INestApplicationContext } from '@nestjs/common';
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
import type { RedisStreamsTransport } from './redis-streams.transport';
import { redisTestPrefix, requireRedis, startRedisTestServer, type RedisTestServer } from './redis-test-server';
import { streamKey } from './stream-entries';

// Redis removing entries a consumer group has not handled: never by our own trimming, and when
// it happens anyway (a manual XTRIM or XDEL, FLUSHALL, a Redis that lost its data) the loss is
// logged at error level, counted, not shown as pending, and a re-drive recovers it.
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const WAIT_MS = Number(process.env['REDIS_LOSS_TEST_TIMEOUT_MS'] ?? 60_000);

describe('Redis Streams: entries removed before a consumer group handled them (real Redis and PostgreSQL)', () => {
  let db: TestDatabase;
  let server: RedisTestServer;
  let prefix: string;
  let errors: jest.SpyInstance;
  const apps: INestApplicationContext[] = [];

  const config = (overrides: Partial<MessagingConfig> = {}): Partial<MessagingConfig> =>
    messagingTestConfig({ eventTransport: 'redis', redisUrl: server.url, redisKeyPrefix: prefix, redisClaimIdleMs: 400, ...overrides });
  const start = async (options: Omit<Parameters<typeof createFixtureApp>[0], 'database'>) => {
    const started = await createFixtureApp({ database: databaseTestConfig(db.url), ...options });
    apps.push(started.app);
    return started;
  };
  const close = async (app: INestApplicationContext): Promise<void> => {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  };
  const sql = sqlOneShot(() => db.url);
  const count = async (table: string): Promise<number> => (await sql<{ n: number }>(`SELECT count(DISTINCT event_id)::int AS n FROM ${table}`))[0].n;
  const stream = (): string => streamKey(prefix, ThingHappened.type);
  const stats = (app: INestApplicationContext) => (app.get(TRANSPORT) as RedisStreamsTransport).stats();
  const errorLines = (): string[] => errors.mock.calls.map((call) => String(call[0]));
  const redis = (): Redis => new Redis(server.url);
  /** Boots alpha and beta so their consumer groups exist, then stops them: two modules that are down. */
  const groupsThenStop = async (messaging: Partial<MessagingConfig>): Promise<void> => {
    const consumers = await start({ messaging, consumers: ['alpha', 'beta'] });
    const client = redis();
    try {
      await eventually(async () => ((await client.call('XINFO', 'GROUPS', stream()).catch(() => [])) as unknown[]).length === 2, { message: 'both groups', timeoutMs: WAIT_MS });
    } finally {
      client.disconnect();
    }
    await close(consumers.app);
  };
  const publishAll = async (producer: { publish: (p: ReturnType<typeof payloads>) => Promise<unknown> }, total: number): Promise<void> => {
    for (let from = 1; from <= total; from += 500) await producer.publish(payloads(from, Math.min(500, total - from + 1)));
    await eventually(async () => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM messaging.outbox'))[0].n === 0, {
      timeoutMs: WAIT_MS,
      message: 'the relay to hand every event to Redis',
    });
  };

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    db = await createTestDatabase('redis_loss');
    server = await startRedisTestServer();
  });

  beforeEach(() => {
    prefix = redisTestPrefix('loss');
    errors = jest.spyOn(Logger.prototype, 'error');
  });

  afterEach(async () => {
    errors.mockRestore();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    if (!server.running) await server.start();
    const client = redis();
    await client.flushall().finally(() => client.disconnect());
    await sql('TRUNCATE alpha.effects, alpha.inbox, beta.effects, beta.inbox, messaging.outbox, messaging.outbox_delivered, messaging.retries, messaging.dead_letters').catch(
      () => undefined,
    );
  });

  afterAll(async () => {
    await server?.destroy();
    await db?.drop();
  });

  it('REDIS_STREAM_MAXLEN=1000, two modules stopped while 5,000 events are published: both get all 5,000 after restart, then the stream is trimmed back', async () => {
    const messaging = config({ redisStreamMaxLen: 1000 });
    await groupsThenStop(messaging);
    const producerOnly = await start({ messaging, consumers: [] });
    await publishAll(producerOnly.producer, 5000);
    const client = redis();
    try {
      expect(await client.xlen(stream())).toBe(5000);
      expect(stats(producerOnly.app).streamsOverCap).toEqual([{ stream: stream(), length: 5000, heldBy: expect.stringMatching(/^(alpha|beta)$/) }]);

      // Consumers only (no relay, as the README runs them): the producer's relay is the one that
      // publishes next, so its stats are the ones that see the trim (with two relays either could).
      const consumers = await start({ messaging: { ...messaging, relayEnabled: false }, consumers: ['alpha', 'beta'] });
      await waitForIdle(consumers.app, { timeoutMs: WAIT_MS });
      expect(await count('alpha.effects')).toBe(5000);
      expect(await count('beta.effects')).toBe(5000);
      expect(stats(consumers.app).lost).toBe(0);
      expect(errorLines()).toEqual([]);

      // Once every group has handled them, entries beyond the cap go with the next publish.
      await publishAll(producerOnly.producer, 10);
      expect(await client.xlen(stream())).toBeLessThanOrEqual(1000 + 100);
      expect(stats(producerOnly.app).streamsOverCap).toEqual([]);
    } finally {
      client.disconnect();
    }
  }, 4 * WAIT_MS);

  it('entries trimmed (XTRIM) or deleted (XDEL) behind the groups’ back are logged as errors, counted as lost, not left pending', async () => {
    const messaging = config();
    await groupsThenStop(messaging);
    const producerOnly = await start({ messaging, consumers: [] });
    await publishAll(producerOnly.producer, 300);
    const client = redis();
    try {
      expect(await client.xtrim(stream(), 'MAXLEN', 100)).toBe(200);
      const ids = ((await client.xrange(stream(), '-', '+', 'COUNT', 10)) as [string, string[]][]).map(([id]) => id);
      expect(await client.xdel(stream(), ...ids)).toBe(10);
      // What is left for each group: 90 entries, not 300 (nor 290).
      expect((await producerOnly.app.get(MessagingMetrics).backlog()).transportPending).toBe(2 * 90);

      const consumers = await start({ messaging, consumers: ['alpha', 'beta'] });
      await waitForIdle(consumers.app, { timeoutMs: WAIT_MS });
      expect(await count('alpha.effects')).toBe(90);
      expect(await count('beta.effects')).toBe(90);
      expect(stats(consumers.app).lost).toBe(2 * 210);
      expect(errorLines().filter((line) => /entries of .* were trimmed or deleted .* lost, not pending; re-drive/.test(line))).toHaveLength(2);
      expect((await consumers.app.get(MessagingMetrics).backlog()).transportPending).toBe(0);
    } finally {
      client.disconnect();
    }
  }, 3 * WAIT_MS);

  it('entries deleted while a dead consumer held them pending are counted as lost when reclaimed', async () => {
    const messaging = config();
    const producerOnly = await start({ messaging, consumers: [] });
    await publishAll(producerOnly.producer, 20);
    const client = redis();
    try {
      await client.xgroup('CREATE', stream(), 'alpha', '0');
      const read = (await client.xreadgroup('GROUP', 'alpha', 'dead-consumer', 'COUNT', 20, 'STREAMS', stream(), '>')) as [string, [string, string[]][]][];
      await client.xdel(stream(), ...read[0][1].slice(0, 5).map(([id]) => id));

      const live = await start({ messaging, consumers: ['alpha'] });
      await waitForIdle(live.app, { timeoutMs: WAIT_MS });
      expect(await count('alpha.effects')).toBe(15);
      expect(stats(live.app)).toMatchObject({ lost: 5, reclaimed: 15 });
      expect(errorLines().some((line) => line.startsWith('5 entries of') && line.includes('lost'))).toBe(true);
    } finally {
      client.disconnect();
    }
  }, 3 * WAIT_MS);

  it('a Redis that loses its data (FLUSHALL) while groups wait: the loss is logged and counted, and a re-drive recovers every event', async () => {
    const since = new Date(Date.now() - 1000);
    const messaging = config({ outboxRetentionHours: 1 });
    await groupsThenStop(messaging);
    const producerOnly = await start({ messaging, consumers: [] });
    await publishAll(producerOnly.producer, 30);
    const client = redis();
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    await producerOnly.producer.publish(payloads(31, 10));
    await eventually(() => stats(producerOnly.app).streamsLost === 1, { timeoutMs: WAIT_MS, message: 'the publisher to notice the stream was lost' });
    expect(errorLines().some((line) => line.includes(`${stream()} was lost`))).toBe(true);

    const consumers = await start({ messaging, consumers: ['alpha', 'beta'] });
    await waitForIdle(consumers.app, { timeoutMs: WAIT_MS });
    expect(await count('alpha.effects')).toBe(10);
    expect(await consumers.app.get(OutboxRetention).redriveFrom(since)).toBe(40);
    await waitForIdle(consumers.app, { timeoutMs: WAIT_MS });
    await eventually(async () => (await count('alpha.effects')) === 40 && (await count('beta.effects')) === 40, { timeoutMs: WAIT_MS, message: 'the re-driven events' });
  }, 3 * WAIT_MS);

  it('a Redis that loses its data under running consumers: each group notices it vanished, logs an error, counts it and carries on', async () => {
    const { app, producer } = await start({ messaging: config(), consumers: ['alpha', 'beta'] });
    await publishAll(producer, 10);
    await waitForIdle(app, { timeoutMs: WAIT_MS });
    const client = redis();
    await client.flushall().finally(() => client.disconnect());
    await publishAll(producer, 10);
    await eventually(() => stats(app).groupsLost === 2, { timeoutMs: WAIT_MS, message: 'both groups to notice' });
    await waitForIdle(app, { timeoutMs: WAIT_MS });
    expect(await count('alpha.effects')).toBe(20);
    expect(await count('beta.effects')).toBe(20);
    expect(errorLines().filter((line) => /consumer group (alpha|beta) of .* vanished/.test(line))).toHaveLength(2);
  }, 3 * WAIT_MS);

  it('a best-effort broadcast reader that falls behind a trim counts and logs what it missed', async () => {
    const control = new FixtureControl();
    control.bestEffortDelayMs = 1000; // its queue (10) then takes seconds to drain: the reader waits
    const warnings = jest.spyOn(Logger.prototype, 'warn');
    try {
      const { app, producer } = await start({ messaging: config({ bestEffortQueueCapacity: 10 }), consumers: ['beta'], control });
      await publishAll(producer, 20);
      await eventually(() => control.bestEffortSeen.length > 0, { timeoutMs: WAIT_MS, message: 'the reader to take the first events' });
      await publishAll(producer, 480);
      const client = redis();
      await client.xtrim(stream(), 'MAXLEN', 0).finally(() => client.disconnect());
      control.bestEffortDelayMs = 0;
      await eventually(() => stats(app).lostBestEffort > 0, { timeoutMs: WAIT_MS, message: 'the reader to notice' });
      await producer.publish(payloads(501, 5));
      await eventually(() => control.bestEffortSeen.includes(505), { timeoutMs: WAIT_MS, message: 'the reader to carry on' });
      // Every event reached the subscriber, or was dropped by its bounded queue, or is counted lost.
      const dropped = app.get(MessagingMetrics).counters().subscribers.find((counters) => counters.subscriber.endsWith('.watch'))?.dropped ?? 0;
      expect(control.bestEffortSeen.length + dropped + stats(app).lostBestEffort).toBe(505);
      expect(warnings.mock.calls.some((call) => /fell behind the stream's trim: \d+ events/.test(String(call[0])))).toBe(true);
    } finally {
      warnings.mockRestore();
    }
  }, 3 * WAIT_MS);
});

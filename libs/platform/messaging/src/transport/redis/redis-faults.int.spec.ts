import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { MessagingMetrics } from '../../metrics/messaging-metrics';
import { createFixtureApp } from '../../test-support/fixture-app';
import { payloads } from '../../test-support/fixture-events';
import { messagingTestConfig, waitForIdle } from '../../testing';
import { redisTestPrefix, startRedisTestServer, startSilentDropProxy, type RedisTestServer, type SilentDropProxy } from './redis-test-server';

/** Bound of every Redis call in these tests (`REDIS_COMMAND_TIMEOUT_MS`); the faults last longer. */
const COMMAND_TIMEOUT_MS = 500;
/** Every wait of these tests; generous, so a slow machine never fails them, yet finite. */
const DRAIN_TIMEOUT_MS = Number(process.env['REDIS_FAULT_TEST_TIMEOUT_MS'] ?? 30_000);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Redis Streams under Redis faults: every wait bounded, nothing lost, nothing applied twice (real Redis and PostgreSQL)', () => {
  let db: TestDatabase;
  let server: RedisTestServer | undefined;
  let proxy: SilentDropProxy | undefined;
  const apps: INestApplicationContext[] = [];

  const start = async (redisUrl: string) => {
    const messaging = messagingTestConfig({
      eventTransport: 'redis',
      redisUrl,
      redisKeyPrefix: redisTestPrefix('faults'),
      redisClaimIdleMs: 400,
      redisCommandTimeoutMs: COMMAND_TIMEOUT_MS,
    });
    const started = await createFixtureApp({ database: databaseTestConfig(db.url), messaging, logger: false });
    apps.push(started.app);
    return started;
  };
  const sql = sqlOneShot(() => db.url);
  const effects = async (schema: 'alpha' | 'beta'): Promise<{ all: number; distinct: number }> =>
    (await sql<{ all: number; distinct: number }>(`SELECT count(*)::int AS all, count(DISTINCT event_id)::int AS distinct FROM ${schema}.effects`))[0];
  /** Every module applied each of the `count` events exactly once, and the transport holds nothing. */
  const expectAllAppliedOnce = async (app: INestApplicationContext, count: number): Promise<void> => {
    await waitForIdle(app, { timeoutMs: DRAIN_TIMEOUT_MS });
    expect(await effects('alpha')).toEqual({ all: count, distinct: count });
    expect(await effects('beta')).toEqual({ all: count, distinct: count });
    expect((await app.get(MessagingMetrics).backlog()).transportPending).toBe(0);
  };

  beforeAll(async () => {
    db = await createTestDatabase('redis_faults');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await proxy?.close();
    await server?.destroy();
    proxy = server = undefined;
    const client = new Client({ connectionString: db.url });
    await client.connect();
    await client
      .query('TRUNCATE alpha.effects, alpha.inbox, beta.effects, beta.inbox, messaging.outbox, messaging.outbox_delivered, messaging.retries, messaging.dead_letters')
      .catch(() => undefined);
    await client.end();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('restarted from its append-only file: every group drains to a backlog of zero (Redis 7.0 replays reads without the groups’ read counters)', async () => {
    server = await startRedisTestServer({ appendOnly: true });
    const { app, producer } = await start(server.url);
    await producer.publish(payloads(1, 20));
    await waitForIdle(app, { timeoutMs: DRAIN_TIMEOUT_MS });
    await server.stop();
    await server.start();
    await producer.publish(payloads(21, 20));
    await expectAllAppliedOnce(app, 40);
  }, 90_000);

  it('paused past REDIS_COMMAND_TIMEOUT_MS and restarted, in rounds, while events are published: every module applies each event once', async () => {
    server = await startRedisTestServer({ appendOnly: true });
    const { app, producer } = await start(server.url);
    let published = 0;
    let publishing = true;
    const load = (async () => {
      while (publishing) {
        await producer.publish(payloads(published + 1, 10));
        published += 10;
        await sleep(25);
      }
    })();
    for (let round = 0; round < 3; round += 1) {
      await sleep(300);
      server.pause();
      await sleep(4 * COMMAND_TIMEOUT_MS);
      server.resume();
      await sleep(300);
      await server.stop();
      await sleep(300);
      await server.start();
    }
    publishing = false;
    await load;
    await expectAllAppliedOnce(app, published);
  }, 120_000);

  it('connections dropped silently (black-holed, never closed): the publisher and every loop give up within their bound, reset the connection and resume', async () => {
    server = await startRedisTestServer();
    proxy = await startSilentDropProxy(server.port);
    const { app, producer, control } = await start(proxy.url);
    await producer.publish(payloads(1, 20));
    await waitForIdle(app, { timeoutMs: DRAIN_TIMEOUT_MS });
    proxy.blackHole();
    await producer.publish(payloads(21, 20));
    await expectAllAppliedOnce(app, 40);
    // The broadcast reader resumed too (best effort: nothing appended after it started is missed here).
    await eventually(() => control.bestEffortSeen.length === 40, { message: 'the broadcast reader to resume', timeoutMs: DRAIN_TIMEOUT_MS });
  }, 90_000);
});

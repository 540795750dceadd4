// Issue 13, "reclaim of a dead consumer's entries" (real Redis and PostgreSQL): a consumer killed
// while it holds entries is found dead by its lapsed presence and its entries are taken over at
// once by a live consumer of its group, long before REDIS_CLAIM_IDLE_MS, while keyed events
// read meanwhile wait behind them and still apply in keySeq order, once. A live consumer whose
// handler is slow keeps its entries.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { createTestDatabase, eventually, sqlOnClient, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import type { MessagingConfig } from '../../messaging.config';
import { createFixtureApp } from '../../test-support/fixture-app';
import { FixtureControl, payloads, ThingHappened } from '../../test-support/fixture-events';
import { createOrderedApp, type OrderedApp, type OrderedAppOptions } from '../../test-support/ordered-app';
import { caughtUp, orderProblems } from '../../test-support/ordered-checks';
import { Moved, ORDERED_SUBSCRIBERS, type OrderedConsumer } from '../../test-support/ordered-events';
import { orderingKeys } from '../../test-support/ordered-workload';
import { messagingTestConfig, waitForIdle } from '../../testing';
import { TRANSPORT } from '../transport';
import type { RedisStreamsTransport } from './redis-streams.transport';
import { ANNOUNCE_CONSUMER_SCRIPT, presenceInstancesKey, presenceKey, presenceSinceKey } from './consumer-presence';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from './redis-test-server';
import { streamKey } from './stream-entries';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const REGISTER = path.join(__dirname, '..', '..', 'test-support', 'ts-register.cjs');
const CHILD = path.join(__dirname, 'stuck-consumer-child.fixture.ts');
const CONSUMERS: readonly OrderedConsumer[] = ['serial', 'batched'];
/** Far above every wait below: only the presence check can take the entries over in time. */
const CLAIM_IDLE_MS = 60_000;
const PRESENCE = { redisClaimIdleMs: CLAIM_IDLE_MS, redisConsumerHeartbeatMs: 200, redisConsumerTtlMs: 1000 } as Partial<MessagingConfig>;

describe('Redis consumers found dead by their presence (real Redis and PostgreSQL)', () => {
  let db: TestDatabase;
  let client: Client;
  let redis: Redis;
  let prefix: string;
  const apps: INestApplicationContext[] = [];
  const children = new Set<ChildProcess>();

  const redisConfig = (overrides: Partial<MessagingConfig> = {}): Partial<MessagingConfig> =>
    messagingTestConfig({ eventTransport: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix, ...PRESENCE, ...overrides });
  const start = async (options: Omit<OrderedAppOptions, 'database'>): Promise<OrderedApp> => {
    const started = await createOrderedApp({ database: databaseTestConfig(db.url), ...options });
    apps.push(started.app);
    return started;
  };
  const sql = sqlOnClient(() => client);
  const transportOf = (app: INestApplicationContext): RedisStreamsTransport => app.get<RedisStreamsTransport>(TRANSPORT, { strict: false });
  const pendingOf = async (stream: string, group: string, consumer?: string): Promise<number> => {
    const [count, , , consumers] = (await redis.xpending(stream, group)) as [number, string, string, [string, string][] | null];
    return consumer === undefined ? Number(count) : Number((consumers ?? []).find(([name]) => name === consumer)?.[1] ?? 0);
  };

  /** Starts the stuck consumer in a process of its own; resolves with its consumer name once it runs. */
  const startStuckConsumer = async (): Promise<{ child: ChildProcess; name: string }> => {
    const child = spawn(process.execPath, ['-r', REGISTER, CHILD], {
      env: { ...process.env, STUCK_DATABASE_URL: db.url, STUCK_MESSAGING: JSON.stringify(redisConfig()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const output: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const name = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output.push(chunk.toString());
        const ready = /ready (\S+)/.exec(output.join(''));
        if (ready) resolve(ready[1]);
      });
      child.once('exit', (code, signal) => reject(new Error(`stuck consumer exited (${code ?? signal}) before it was ready: ${output.join('')}`)));
    });
    return { child, name };
  };

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    redis = new Redis(REDIS_URL);
  });

  beforeEach(async () => {
    prefix = redisTestPrefix('dead');
    db = await createTestDatabase('dead_consumer');
    client = new Client({ connectionString: db.url, application_name: 'dead-consumer-test' });
    await client.connect();
  });

  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deleteRedisKeys(REDIS_URL, prefix);
    await client?.end();
    await db?.drop();
  });

  afterAll(() => {
    redis?.disconnect();
  });

  it('takes over the entries of a consumer SIGKILLed while holding them long before REDIS_CLAIM_IDLE_MS: each key in keySeq order, once', async () => {
    const keys = orderingKeys('d', 40);
    const stream = streamKey(prefix, Moved.type);
    // The stuck consumer hosts both subscribers first, so it reads every key's first event and never acknowledges it.
    const stuck = await startStuckConsumer();
    const producerOnly = await start({ consumers: [], messaging: redisConfig() });
    await producerOnly.producer.publish(keys.map((key) => ({ key, label: 'first' })));
    for (const consumer of CONSUMERS) {
      const group = ORDERED_SUBSCRIBERS[consumer].schema;
      await eventually(async () => (await pendingOf(stream, group, stuck.name)) === keys.length, { message: `the stuck consumer to hold ${group}'s first events` });
    }

    const live = await start({ messaging: redisConfig() });
    stuck.child.kill('SIGKILL');
    // Later events of every key reach the live consumer first: they wait behind the dead one's.
    for (let round = 0; round < 3; round += 1) await producerOnly.producer.publish(keys.map((key) => ({ key, label: `later-${round}` })));

    // Far below REDIS_CLAIM_IDLE_MS: only taking over the dead consumer's entries at once gets there.
    await eventually(async () => (await caughtUp(sql, 'serial')) && (await caughtUp(sql, 'batched')), {
      timeoutMs: 20_000,
      message: 'both subscribers to apply every event, the dead consumer’s included',
      describe: async () => JSON.stringify({ pending: await pendingOf(stream, 'ordered_serial'), parked: await sql('SELECT count(*)::int AS n FROM messaging.retries') }),
    });
    await waitForIdle(live.app, { timeoutMs: 20_000 });
    for (const consumer of CONSUMERS) {
      expect({ consumer, problems: await orderProblems(sql, consumer) }).toEqual({ consumer, problems: [] });
      expect(await pendingOf(stream, ORDERED_SUBSCRIBERS[consumer].schema)).toBe(0);
    }
    expect(transportOf(live.app).stats().reclaimed).toBe(CONSUMERS.length * keys.length);
  }, 90_000);

  it('takes over at once what a consumer that withdrew its presence left, and leaves a consumer that announces none to REDIS_CLAIM_IDLE_MS', async () => {
    const stream = streamKey(prefix, ThingHappened.type);
    const producerOnly = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: redisConfig(), consumers: [] });
    apps.push(producerOnly.app);
    await producerOnly.producer.publish(payloads(1, 20));
    await eventually(async () => (await redis.xlen(stream)) === 20, { message: 'the relay to append to the stream' });
    await redis.xgroup('CREATE', stream, 'alpha', '0');
    // A process that stopped (withdrew its presence) with 10 entries it never handled, and one of
    // an older version (no presence) holding 10: only the first is known to be gone.
    await redis.xreadgroup('GROUP', 'alpha', 'stopped-consumer', 'COUNT', 10, 'STREAMS', stream, '>');
    await redis.xreadgroup('GROUP', 'alpha', 'silent-consumer', 'COUNT', 10, 'STREAMS', stream, '>');
    await redis.eval(ANNOUNCE_CONSUMER_SCRIPT, 3, presenceKey(prefix), presenceInstancesKey(prefix), presenceSinceKey(prefix), 'stopped-consumer', 1000, 3_600_000, 'gone', 'stopped-instance');

    const live = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: redisConfig(), consumers: ['alpha'] });
    apps.push(live.app);
    await eventually(async () => (await pendingOf(stream, 'alpha', 'stopped-consumer')) === 0, { message: 'the stopped consumer’s entries to be taken over' });
    await eventually(async () => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM alpha.effects'))[0].n === 10, { message: 'them to be handled' });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // five heartbeats of the live consumer
    expect(await pendingOf(stream, 'alpha', 'silent-consumer')).toBe(10);
    expect(transportOf(live.app).stats().reclaimed).toBe(10);
  }, 60_000);

  it('leaves its entries to a live consumer whose handler runs far longer than the presence lifetime', async () => {
    const stream = streamKey(prefix, ThingHappened.type);
    const slow = new FixtureControl();
    slow.betaDelayMs = 3000; // three presence lifetimes: only the heartbeat says it is alive
    const busy = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: redisConfig(), consumers: ['beta'], control: slow });
    apps.push(busy.app);
    await busy.producer.publish(payloads(1, 10));
    await eventually(() => slow.batchSizes.length > 0, { message: 'the slow consumer to take the batch' });
    const other = new FixtureControl();
    const idle = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: redisConfig(), consumers: ['beta'], control: other });
    apps.push(idle.app);

    await eventually(async () => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM beta.effects'))[0].n === 10, { message: 'the slow batch to commit' });
    await eventually(async () => (await pendingOf(stream, 'beta')) === 0, { message: 'the ack after the commit' });
    expect(transportOf(idle.app).stats().reclaimed).toBe(0);
    expect(other.attempts.size).toBe(0);
    expect([...slow.attempts.values()].map((times) => times.length)).toEqual(Array(10).fill(1));
  }, 60_000);
});

// Consumer presence keys of a deployment that stopped: every process withdrew, nobody renews any
// more, so no later renewal forgets the lapsed names. The keys must then expire on their own once
// the forget window is over, while those of a live deployment never do. Real Redis.
import { Redis } from 'ioredis';
import { eventually } from '@modulith/testing';
import type { TransportSubscription } from '../transport';
import { presenceInstancesKey, presenceKey, presenceSinceKey } from './consumer-presence';
import { RedisStreamsTransport } from './redis-streams.transport';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from './redis-test-server';
import { streamKey } from './stream-entries';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const TYPE = 'presence.expired';

describe('expiry of the consumer presence keys (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  const transports: RedisStreamsTransport[] = [];

  const presenceKeys = (): string[] => [presenceKey(prefix), presenceInstancesKey(prefix), presenceSinceKey(prefix)];
  const ttlsOf = (keys: readonly string[]): Promise<number[]> => Promise.all(keys.map((key) => redis.pttl(key)));
  const start = async (name: string, timing: { heartbeatMs: number; consumerTtlMs: number; consumerForgetMs: number }): Promise<RedisStreamsTransport> => {
    const transport = new RedisStreamsTransport({ url: REDIS_URL, keyPrefix: prefix, streamMaxLen: 0, claimIdleMs: 60_000, commandTimeoutMs: 5000, consumerName: name, ...timing });
    const subscription: TransportSubscription = { subscriber: 'alpha.test', group: 'alpha', eventTypes: [TYPE], mode: 'durable', maxBatch: 10, deliver: async () => undefined };
    transport.subscribe(subscription);
    transports.push(transport);
    await transport.start();
    return transport;
  };

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    redis = new Redis(REDIS_URL);
  });

  beforeEach(() => {
    prefix = redisTestPrefix('presence-expiry');
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.stop()));
    await deleteRedisKeys(REDIS_URL, prefix);
  });

  afterAll(() => redis?.disconnect());

  it('lets the presence keys of a deployment that stopped expire once the forget window is over, and never its streams', async () => {
    const timing = { heartbeatMs: 100, consumerTtlMs: 400, consumerForgetMs: 600 };
    const one = await start('one', timing);
    const two = await start('two', timing);
    await eventually(async () => (await redis.zcard(presenceKey(prefix))) === 2, { message: 'both consumers to announce themselves' });

    await one.stop();
    await two.stop();
    const stoppedAt = Date.now();

    // Every presence lapsed at the withdrawals: the keys outlive them by the TTL and the forget window.
    for (const ttl of await ttlsOf(presenceKeys())) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(timing.consumerTtlMs + timing.consumerForgetMs);
    }
    await eventually(async () => (await redis.exists(...presenceKeys())) === 0, { message: 'the presence keys to expire', timeoutMs: 10_000 });
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(timing.consumerForgetMs);
    expect(await redis.pttl(streamKey(prefix, TYPE))).toBe(-1); // events: the stream and its group stay
  }, 30_000);

  it('never lets the keys of a live consumer expire, even at its slowest heartbeat, while a stopped one is forgotten from them', async () => {
    // Heartbeat at half the TTL (the slowest allowed): each renewal pushes the expiry 2 TTLs and
    // the forget window (1.5 s) ahead, and the test renews for more than twice that. A stall of
    // this process up to 1.2 s (a loaded CI machine) between two renewals still passes.
    const timing = { heartbeatMs: 300, consumerTtlMs: 600, consumerForgetMs: 300 };
    await start('live', timing);
    const stopped = await start('stopped', timing);
    await eventually(async () => (await redis.zcard(presenceKey(prefix))) === 2, { message: 'both consumers to announce themselves' });
    await stopped.stop();

    const until = Date.now() + 4000;
    while (Date.now() < until) {
      const ttls = await ttlsOf(presenceKeys());
      if (!ttls.every((ttl) => ttl > 0)) throw new Error(`a presence key of the live consumer has expired or has no expiry (PTTLs ${ttls.join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await redis.zrange(presenceKey(prefix), 0, -1)).toEqual(['live']);
    expect(await redis.hkeys(presenceInstancesKey(prefix))).toEqual(['live']);
  }, 30_000);
});

// Call presence sets of a module whose replicas all died (SIGKILL: none withdrew, none renews
// again, so no later renewal forgets them) must expire on their own; a live replica's must not.
// Real Redis.
import { Redis } from 'ioredis';
import { eventually } from '@modulith/testing';
import { callKeys } from './call-keys';
import { ANNOUNCE_SCRIPT } from './call-scripts';
import { RedisCallTransport } from './redis-calls.transport';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from './redis-test-server';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MODULE = 'accounts';

describe('expiry of the call presence sets (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  const transports: RedisCallTransport[] = [];

  const presenceKeys = (): string[] => [callKeys.hosts(prefix, MODULE), callKeys.draining(prefix, MODULE)];

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    redis = new Redis(REDIS_URL);
  });

  beforeEach(() => {
    prefix = redisTestPrefix('call-presence-expiry');
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.stop(1000)));
    await deleteRedisKeys(REDIS_URL, prefix);
  });

  afterAll(() => redis?.disconnect());

  it('lets the presence sets of replicas that all died expire a TTL after their last presence lapsed', async () => {
    const hostTtlMs = 400;
    // The last renewals of a serving and a draining replica, both then killed: nothing runs after them.
    await redis.eval(ANNOUNCE_SCRIPT, 2, ...presenceKeys(), 'serving', hostTtlMs, 'serve');
    await redis.eval(ANNOUNCE_SCRIPT, 2, ...presenceKeys(), 'draining', hostTtlMs, 'drain');
    for (const ttl of await Promise.all(presenceKeys().map((key) => redis.pttl(key)))) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2 * hostTtlMs);
    }
    await eventually(async () => (await redis.exists(...presenceKeys())) === 0, { message: 'the call presence sets to expire', timeoutMs: 10_000 });
  }, 30_000);

  it('never lets the hosts set of a live replica expire while it renews', async () => {
    // Each renewal pushes the expiry 2 TTLs (1 s) ahead; the test renews for three times that.
    const transport = new RedisCallTransport({
      url: REDIS_URL,
      keyPrefix: prefix,
      commandTimeoutMs: 5000,
      heartbeatMs: 150,
      hostTtlMs: 500,
      streamMaxLen: 100,
      concurrency: 1,
      overrunGraceMs: 1000,
      replica: 'live',
    });
    transport.serve([MODULE], (request) => Promise.resolve({ id: request.id, replica: 'live', ok: true }));
    transports.push(transport);
    await transport.start();
    const hosts = callKeys.hosts(prefix, MODULE);
    await eventually(async () => (await redis.zscore(hosts, 'live')) !== null, { message: 'the replica to announce itself' });

    const until = Date.now() + 3000;
    while (Date.now() < until) {
      const ttl = await redis.pttl(hosts);
      if (ttl <= 0) throw new Error(`the hosts set of the live replica has expired or has no expiry (PTTL ${ttl})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await redis.pttl(callKeys.requests(prefix, MODULE))).toBe(-1); // the request stream and its group stay
  }, 30_000);
});

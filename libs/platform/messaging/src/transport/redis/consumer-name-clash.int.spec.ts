// Two live processes given the same consumer name (REDIS_CONSUMER_NAME copied to every replica):
// each reports the clash, and one of them stopping does not withdraw the presence its twin still
// renews (else every other consumer would take the live twin's entries over at once). Real Redis.
import { Redis } from 'ioredis';
import { eventually } from '@modulith/testing';
import type { EventEnvelope } from '../../events/event-envelope';
import type { TransportSubscription } from '../transport';
import { ANNOUNCE_CONSUMER_SCRIPT, presenceInstancesKey, presenceKey, presenceSinceKey } from './consumer-presence';
import { RedisStreamsTransport, type RedisStreamsOptions } from './redis-streams.transport';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from './redis-test-server';
import { streamKey } from './stream-entries';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('Redis consumers sharing one consumer name (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  const transports: RedisStreamsTransport[] = [];

  const subscription = (group: string, type: string, delivered: EventEnvelope[] = []): TransportSubscription => ({
    subscriber: `${group}.test`,
    group,
    eventTypes: [type],
    mode: 'durable',
    maxBatch: 10,
    deliver: async (envelopes) => void delivered.push(...envelopes),
  });
  const startTransport = async (options: Partial<RedisStreamsOptions>, subscriptions: TransportSubscription[]): Promise<RedisStreamsTransport> => {
    const transport = new RedisStreamsTransport({ url: REDIS_URL, keyPrefix: prefix, streamMaxLen: 0, claimIdleMs: 60_000, commandTimeoutMs: 5000, ...options });
    subscriptions.forEach((s) => transport.subscribe(s));
    transports.push(transport);
    await transport.start();
    return transport;
  };

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    redis = new Redis(REDIS_URL);
  });

  beforeEach(() => {
    prefix = redisTestPrefix('clash');
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.stop()));
    await deleteRedisKeys(REDIS_URL, prefix);
  });

  afterAll(() => redis?.disconnect());

  it('each of two live processes with the same consumer name reports the clash', async () => {
    const options = { consumerName: 'same-name', heartbeatMs: 50, consumerTtlMs: 1000 };
    const first = await startTransport(options, [subscription('alpha', 'clash.one')]);
    const second = await startTransport(options, [subscription('alpha', 'clash.one')]);
    await eventually(() => first.stats().consumerNameClashes > 0 && second.stats().consumerNameClashes > 0, {
      timeoutMs: 10_000,
      message: 'both processes to report that another live process renews their consumer name',
    });
  }, 30_000);

  it('a restarted process taking over its own name from a dead predecessor reports no clash', async () => {
    // The predecessor's presence, still live (it was killed a moment ago), under another instance.
    await redis.eval(ANNOUNCE_CONSUMER_SCRIPT, 3, presenceKey(prefix), presenceInstancesKey(prefix), presenceSinceKey(prefix), 'pod-0', 10_000, 3_600_000, 'live', 'dead-instance');
    const restarted = await startTransport({ consumerName: 'pod-0', heartbeatMs: 50, consumerTtlMs: 1000 }, [subscription('alpha', 'clash.one')]);
    await new Promise((resolve) => setTimeout(resolve, 500)); // ten renewals
    expect(restarted.stats().consumerNameClashes).toBe(0);
  }, 30_000);

  it('one of two processes with the same name stopping leaves the entries its live twin holds to the twin', async () => {
    const stream = streamKey(prefix, 'clash.two');
    for (let index = 0; index < 10; index += 1) await redis.xadd(stream, '*', 'envelope', '{}');
    await redis.xgroup('CREATE', stream, 'beta', '0');
    // The live twin (another process, long heartbeat) holds 10 entries in flight under the shared name.
    await redis.xreadgroup('GROUP', 'beta', 'twin', 'COUNT', 10, 'STREAMS', stream, '>');
    const delivered: EventEnvelope[] = [];
    const third = await startTransport({ consumerName: 'third', heartbeatMs: 50, consumerTtlMs: 1000 }, [subscription('beta', 'clash.two', delivered)]);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // live a whole TTL: it may judge others dead
    // This process announces 'twin' once at start (its heartbeat is long), then the live twin renews it.
    const stopping = await startTransport({ consumerName: 'twin', heartbeatMs: 5000, consumerTtlMs: 10_000 }, [subscription('gamma', 'clash.three')]);
    await redis.eval(ANNOUNCE_CONSUMER_SCRIPT, 3, presenceKey(prefix), presenceInstancesKey(prefix), presenceSinceKey(prefix), 'twin', 10_000, 3_600_000, 'live', 'live-twin');

    await stopping.stop();
    await new Promise((resolve) => setTimeout(resolve, 1000)); // twenty heartbeats of the third consumer
    const [pending] = (await redis.xpending(stream, 'beta')) as [number];
    expect({ pending: Number(pending), takenOver: third.stats().reclaimed, delivered: delivered.length }).toEqual({ pending: 10, takenOver: 0, delivered: 0 });
  }, 30_000);
});

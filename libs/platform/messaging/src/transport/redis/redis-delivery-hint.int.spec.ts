// The Redis consumer's `redelivered` flag (real Redis): entries read with `>` (never delivered to
// the group) go as first deliveries, so a durable subscriber skips its inbox look-up; its own
// pending entries read again after a failure, and entries taken over from another consumer, go
// as possibly redelivered.
import { Redis } from 'ioredis';
import { uuidv7 } from '@modulith/core';
import type { EventEnvelope } from '../../events/event-envelope';
import { RecordingSubscription } from '../../test-support/recording-subscription';
import { settles } from '../../test-support/settles';
import { RedisStreamsTransport } from './redis-streams.transport';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from './redis-test-server';
import { encodeEnvelope, streamKey } from './stream-entries';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const TYPE = 'hint.thing';

const envelope = (label: string): EventEnvelope => ({
  id: uuidv7(),
  type: TYPE,
  version: 1,
  occurredAt: new Date().toISOString(),
  source: 'test',
  correlationId: 'hint-test',
  causationId: null,
  payload: { label },
});

describe('Redis consumer: which entries go as possibly redelivered (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let transport: RedisStreamsTransport | undefined;

  const start = async (recorder: RecordingSubscription, claimIdleMs = 60_000): Promise<RedisStreamsTransport> => {
    transport = new RedisStreamsTransport({ url: REDIS_URL, keyPrefix: prefix, streamMaxLen: 0, claimIdleMs, commandTimeoutMs: 5000, heartbeatMs: 100, consumerTtlMs: 1000 });
    transport.subscribe(recorder);
    await transport.start();
    return transport;
  };

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    redis = new Redis(REDIS_URL);
  });

  beforeEach(() => {
    prefix = redisTestPrefix('hint');
  });

  afterEach(async () => {
    await transport?.stop();
    transport = undefined;
    await deleteRedisKeys(REDIS_URL, prefix);
  });

  afterAll(() => redis?.disconnect());

  it('entries new to the group go as first deliveries; its own pending entries read again after a failure do not', async () => {
    const recorder = new RecordingSubscription({ subscriber: 'hint.recorder', group: 'hint', eventType: TYPE, maxBatch: 10 });
    const running = await start(recorder);
    await running.publish([envelope('a'), envelope('b')]);
    await settles(() => expect(recorder.deliveries).toEqual([{ labels: ['a', 'b'], redelivered: false }]));

    recorder.failNext = 1;
    await running.publish([envelope('c')]);
    await settles(() =>
      expect(recorder.deliveries.slice(1)).toEqual([
        { labels: ['c'], redelivered: false },
        { labels: ['c'], redelivered: true },
      ]),
    );
  }, 30_000);

  it('entries taken over from another consumer go as possibly redelivered', async () => {
    const stream = streamKey(prefix, TYPE);
    await redis.xadd(stream, '*', 'envelope', encodeEnvelope(envelope('held-by-a-dead-consumer')));
    await redis.xgroup('CREATE', stream, 'hint', '0');
    // Another process read it and died: it stays pending under that consumer, which announces nothing.
    await redis.xreadgroup('GROUP', 'hint', 'dead-consumer', 'COUNT', 10, 'STREAMS', stream, '>');
    const recorder = new RecordingSubscription({ subscriber: 'hint.recorder', group: 'hint', eventType: TYPE, maxBatch: 10 });
    await start(recorder, 300);
    await settles(() => expect(recorder.deliveries).toEqual([{ labels: ['held-by-a-dead-consumer'], redelivered: true }]));
  }, 30_000);
});

// Redis frozen longer than REDIS_CONSUMER_TTL_MS (SIGSTOP of a private redis-server): every
// presence lapses meanwhile by Redis's clock, yet no consumer was dead. On resume a live consumer
// must not take over the entries another live consumer is still handling.
import { randomUUID } from 'node:crypto';
import { eventually } from '@modulith/testing';
import { Redis } from 'ioredis';
import type { EventEnvelope } from '../../events/event-envelope';
import type { TransportSubscription } from '../transport';
import { ANNOUNCE_CONSUMER_SCRIPT, CLAIM_FROM_LAPSED_SCRIPT, presenceInstancesKey, presenceKey, presenceSinceKey } from './consumer-presence';
import { RedisStreamsTransport } from './redis-streams.transport';
import { startRedisTestServer, type RedisTestServer } from './redis-test-server';
import { streamKey } from './stream-entries';

const TYPE = 'pause.happened';

describe('consumer presence across a Redis pause (private redis-server)', () => {
  let server: RedisTestServer;
  let redis: Redis;
  const transports: RedisStreamsTransport[] = [];

  beforeAll(async () => {
    server = await startRedisTestServer();
    redis = new Redis(server.url);
  });

  afterAll(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.stop()));
    redis?.disconnect();
    await server?.destroy();
  });

  const start = async (name: string, heartbeatMs: number, deliver: (envelopes: readonly EventEnvelope[]) => Promise<void>): Promise<RedisStreamsTransport> => {
    const transport = new RedisStreamsTransport({
      url: server.url,
      keyPrefix: 'pause',
      streamMaxLen: 0,
      claimIdleMs: 60_000,
      heartbeatMs,
      consumerTtlMs: 3000,
      commandTimeoutMs: 1000,
      consumerName: name,
    });
    const subscription: TransportSubscription = { subscriber: 'alpha.test', group: 'alpha', eventTypes: [TYPE], mode: 'durable', maxBatch: 10, deliver };
    transport.subscribe(subscription);
    transports.push(transport);
    await transport.start();
    return transport;
  };

  it('leaves a live consumer its entries in flight when every presence lapsed during the pause', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    // The busy consumer renews less often than the idle one looks for lapsed consumers.
    const busy = await start('busy', 1500, () => released);
    const envelopes: EventEnvelope[] = Array.from({ length: 10 }, (_, index) => ({
      id: randomUUID(),
      type: TYPE,
      version: 1,
      occurredAt: new Date().toISOString(),
      source: 'test',
      correlationId: randomUUID(),
      causationId: null,
      payload: { index },
    }));
    await busy.publish(envelopes);
    const stream = streamKey('pause', TYPE);
    await eventually(async () => Number(((await redis.xpending(stream, 'alpha')) as [number])[0]) === 10, { message: 'the busy consumer to hold the batch' });
    const seenByIdle: EventEnvelope[] = [];
    const idle = await start('idle', 50, async (batch) => void seenByIdle.push(...batch));

    server.pause();
    await new Promise((resolve) => setTimeout(resolve, 4000)); // past the presence lifetime and the command timeout
    server.resume();
    await new Promise((resolve) => setTimeout(resolve, 3000)); // two renewals of the busy consumer after the resume
    release();
    await eventually(async () => Number(((await redis.xpending(stream, 'alpha')) as [number])[0]) === 0, { message: 'the busy consumer to acknowledge' });
    expect({ takenOver: idle.stats().reclaimed, seenByIdle: seenByIdle.length }).toEqual({ takenOver: 0, seenByIdle: 0 });
  }, 60_000);

  it('takes nothing over for a consumer whose own presence lapsed too, until it has been live again a whole TTL', async () => {
    const prefix = 'frozen';
    const stream = streamKey(prefix, TYPE);
    const keys = [presenceKey(prefix), presenceInstancesKey(prefix), presenceSinceKey(prefix)];
    const announce = (name: string, ttlMs: number) => redis.eval(ANNOUNCE_CONSUMER_SCRIPT, keys.length, ...keys, name, ttlMs, 3_600_000, 'live', `${name}-instance`);
    const claim = async (ttlMs: number) => {
      const [taken] = (await redis.eval(CLAIM_FROM_LAPSED_SCRIPT, 3, stream, keys[0], keys[2], 'alpha', 'idle', 100, ttlMs)) as [unknown[]];
      return taken.length;
    };
    for (let index = 0; index < 5; index += 1) await redis.xadd(stream, '*', 'envelope', '{}');
    await redis.xgroup('CREATE', stream, 'alpha', '0');
    await redis.xreadgroup('GROUP', 'alpha', 'busy', 'COUNT', 5, 'STREAMS', stream, '>');
    // Both announced with a 2 s lifetime, then Redis (or both processes) froze past it. The
    // lifetime is long beside a stall of this process between two calls (a loaded CI machine):
    // each step below holds for 1-2 s of such delay.
    const lifetimeMs = 2000;
    await announce('busy', lifetimeMs);
    await announce('idle', lifetimeMs);
    await new Promise((resolve) => setTimeout(resolve, lifetimeMs + 300));
    expect(await claim(lifetimeMs)).toBe(0); // the claimer's own presence lapsed: it may be the one frozen
    await announce('idle', lifetimeMs); // the idle one renews first after the freeze
    expect(await claim(lifetimeMs)).toBe(0); // busy has not had a lifetime to renew yet
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await announce('idle', lifetimeMs);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await claim(lifetimeMs)).toBe(5); // idle live a whole lifetime since, busy never renewed: dead
  }, 30_000);
});

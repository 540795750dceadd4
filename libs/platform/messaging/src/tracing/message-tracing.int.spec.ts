import type { INestApplicationContext } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Redis } from 'ioredis';
import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import type { MessagingConfig } from '../messaging.config';
import { createFixtureApp } from '../test-support/fixture-app';
import { FixtureControl, payloads, ThingHappened } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { AccountsModule, SlowEchoQuery } from '../test-support/call-fixtures';
import { parentSpanId, startInMemoryTracing, type InMemoryTracing } from '../test-support/in-memory-tracing';
import { deleteRedisKeys, messagingTestConfig, redisTestPrefix, requireRedis, waitForIdle } from '../testing';
import { decodeEntry, streamKey, type RawStreamEntry } from '../transport/redis/stream-entries';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const TYPE = ThingHappened.type;

describe('Trace context through outbox, relay, transport and subscribers (real PostgreSQL and Redis)', () => {
  let db: TestDatabase;
  let tracing: InMemoryTracing | undefined;
  const prefixes: string[] = [];
  const apps: INestApplicationContext[] = [];

  const start = async (messaging: Partial<MessagingConfig>, consumers?: ('alpha' | 'beta')[], control = new FixtureControl()) => {
    const started = await createFixtureApp({ database: databaseTestConfig(db.url), messaging, consumers, control });
    apps.push(started.app);
    return started;
  };
  const sql = sqlOneShot(() => db.url);
  /** Publishes `count` events inside a request span; returns the request's trace id. */
  const publishInRequest = (producer: Producer, count: number): Promise<string> =>
    trace.getTracer('test').startActiveSpan('request', async (request) => {
      await producer.publish(payloads(1, count));
      request.end();
      return request.spanContext().traceId;
    });
  const spans = (kind: SpanKind, name: string): ReadableSpan[] => (tracing as InMemoryTracing).spans().filter((span) => span.kind === kind && span.name === name);
  const consumerOf = (subscriber: string): ReadableSpan[] => spans(SpanKind.CONSUMER, `process ${TYPE}`).filter((span) => span.attributes['modulith.subscriber'] === subscriber);

  /** Every subscriber's span continues the request's trace, under the append's producer span. */
  const expectOneTrace = async (traceId: string, control: FixtureControl, transport: string): Promise<void> => {
    await eventually(() => control.bestEffortSeen.length === 3, { message: 'the best-effort subscriber' });
    await eventually(() => consumerOf('beta.BetaSubscriber.watch').length === 3, { message: 'the best-effort spans' });
    const [create] = spans(SpanKind.PRODUCER, `create ${TYPE}`);
    expect(create.spanContext().traceId).toBe(traceId);
    const [relayed] = spans(SpanKind.PRODUCER, `publish ${TYPE}`);
    expect(relayed.attributes['modulith.transport']).toBe(transport);
    const alpha = consumerOf('alpha.AlphaSubscriber.apply');
    const beta = consumerOf('beta.BetaSubscriber.applyMany');
    const watch = consumerOf('beta.BetaSubscriber.watch');
    expect(alpha).toHaveLength(3);
    expect(beta.reduce((events, span) => events + Number(span.attributes['messaging.batch.message_count'] ?? 1), 0)).toBe(3);
    for (const span of [relayed, ...alpha, ...beta, ...watch]) {
      expect(span.spanContext().traceId).toBe(traceId);
      expect(parentSpanId(span)).toBe(create.spanContext().spanId);
    }
    // One span per event for the single-event subscriber.
    expect(new Set(alpha.map((span) => span.attributes['messaging.message.id'])).size).toBe(3);
  };

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    db = await createTestDatabase('tracing');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await tracing?.stop();
    tracing = undefined;
    for (const prefix of prefixes.splice(0)) await deleteRedisKeys(REDIS_URL, prefix);
    await sql('TRUNCATE alpha.effects, alpha.inbox, beta.effects, beta.inbox, messaging.outbox, messaging.outbox_delivered, messaging.event_log').catch(() => undefined);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('stores no trace context while tracing is off', async () => {
    const { producer } = await start(messagingTestConfig({ relayEnabled: false }));
    await producer.publish(payloads(1, 2));
    expect(await sql('SELECT traceparent, tracestate FROM messaging.outbox')).toEqual([
      { traceparent: null, tracestate: null },
      { traceparent: null, tracestate: null },
    ]);
  });

  it('continues a request’s trace from the append through the relay and the in-process log to every subscriber', async () => {
    tracing = startInMemoryTracing();
    const control = new FixtureControl();
    const { producer, app } = await start(messagingTestConfig({ outboxRetentionHours: 1 }), undefined, control);
    const traceId = await publishInRequest(producer, 3);
    await waitForIdle(app);
    await expectOneTrace(traceId, control, 'in-process');
    const kept = await sql<{ traceparent: string }>('SELECT DISTINCT traceparent FROM messaging.outbox_delivered');
    expect(kept).toEqual([{ traceparent: expect.stringMatching(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`)) }]);
  }, 30_000);

  it('carries the trace context in the Redis stream entry to subscribers of another instance', async () => {
    tracing = startInMemoryTracing();
    const prefix = redisTestPrefix('tracing');
    prefixes.push(prefix);
    const config = messagingTestConfig({ eventTransport: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix });
    const control = new FixtureControl();
    const producing = await start(config, []);
    const consuming = await start(config, ['alpha', 'beta'], control);
    const traceId = await publishInRequest(producing.producer, 3);
    await waitForIdle(consuming.app);
    await expectOneTrace(traceId, control, 'redis-streams');
    const redis = new Redis(REDIS_URL);
    try {
      const entries = (await redis.xrange(streamKey(prefix, TYPE), '-', '+')) as RawStreamEntry[];
      expect(entries.map((entry) => decodeEntry(entry).envelope?.traceparent?.split('-')[1])).toEqual([traceId, traceId, traceId]);
    } finally {
      redis.disconnect();
    }
  }, 30_000);

  it('continues a request’s trace through a remote query to the replica that serves it', async () => {
    tracing = startInMemoryTracing();
    const prefix = redisTestPrefix('tracing-calls');
    prefixes.push(prefix);
    const messaging = messagingTestConfig({ eventTransport: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix });
    for (const imports of [[AccountsModule], []]) apps.push((await createFixtureApp({ database: databaseTestConfig(db.url), messaging, consumers: [], imports })).app);
    const queries = apps[apps.length - 1].get(QueryBus, { strict: false });
    const traceId = await trace.getTracer('test').startActiveSpan('request', async (request) => {
      await queries.execute(new SlowEchoQuery('traced', 0));
      request.end();
      return request.spanContext().traceId;
    });
    const [client] = spans(SpanKind.CLIENT, 'call fixture.slow-echo');
    const [server] = spans(SpanKind.SERVER, 'serve fixture.slow-echo');
    expect(client.spanContext().traceId).toBe(traceId);
    expect(server.spanContext().traceId).toBe(traceId);
    expect(parentSpanId(server)).toBe(client.spanContext().spanId);
    expect(server.attributes).toMatchObject({ 'rpc.service': 'accounts', 'rpc.method': 'fixture.slow-echo' });
  }, 30_000);
});

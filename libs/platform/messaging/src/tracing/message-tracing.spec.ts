import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { EventEnvelope } from '../events/event-envelope';
import { parentSpanId, startInMemoryTracing, type InMemoryTracing } from '../test-support/in-memory-tracing';
import { traceAppend, traceDelivery, traceRelay } from './message-tracing';

const target = { subscriber: 'ledger.apply', module: 'ledger', eventType: 'ingestion.transfer-ingested' };

function envelope(id: string, traceContext: Partial<EventEnvelope> = {}): EventEnvelope {
  return { id, type: target.eventType, version: 1, occurredAt: '2026-01-01T00:00:00.000Z', source: 'ingestion', correlationId: 'c-1', causationId: null, payload: {}, ...traceContext };
}

describe('message tracing, off (no SDK registered)', () => {
  it('gives an append no trace context and runs deliveries without a span', async () => {
    const fields = await traceAppend('ingestion', target.eventType, 1, async (traceContext) => traceContext);
    expect(fields).toBeUndefined();
    const active = await traceDelivery([envelope('e-1')], target, async () => trace.getActiveSpan());
    expect(active).toBeUndefined();
    expect(traceRelay([envelope('e-1')], 'in-process', performance.now())).toBeUndefined();
  });
});

describe('message tracing, on (in-memory exporter)', () => {
  let tracing: InMemoryTracing;
  const tracer = () => trace.getTracer('test');

  beforeAll(() => (tracing = startInMemoryTracing()));
  afterEach(() => tracing.reset());
  afterAll(() => tracing.stop());

  /** Appends inside a request span; returns the envelope fields the append handed out, and the request's span. */
  const appendInRequest = () =>
    tracer().startActiveSpan('request', async (request) => {
      const fields = await traceAppend('ingestion', target.eventType, 2, async (traceContext) => traceContext);
      request.end();
      return { fields, request: request.spanContext() };
    });

  it('makes an append a producer span of the active trace, and hands its W3C context to the envelopes', async () => {
    const { fields, request } = await appendInRequest();
    const [create] = tracing.spans().filter((span) => span.name === `create ${target.eventType}`);
    expect(create.kind).toBe(SpanKind.PRODUCER);
    expect(create.spanContext().traceId).toBe(request.traceId);
    expect(parentSpanId(create)).toBe(request.spanId);
    expect(fields).toEqual({ traceparent: `00-${request.traceId}-${create.spanContext().spanId}-01` });
    expect(create.attributes).toMatchObject({ 'messaging.system': 'modulith', 'messaging.operation': 'create', 'messaging.destination.name': target.eventType, 'messaging.batch.message_count': 2 });
  });

  it('makes no span for an append outside any trace', async () => {
    expect(await traceAppend('ingestion', target.eventType, 1, async (traceContext) => traceContext)).toBeUndefined();
    expect(tracing.spans()).toHaveLength(0);
  });

  it('handles one event in a consumer span, child of the producer span, active while the handler runs', async () => {
    const { fields } = await appendInRequest();
    const producer = tracing.spans().find((span) => span.kind === SpanKind.PRODUCER)!;
    const active = await traceDelivery([envelope('e-1', fields)], target, async () => trace.getActiveSpan()?.spanContext());
    const consumer = tracing.spans().find((span) => span.kind === SpanKind.CONSUMER)!;
    expect(consumer.name).toBe(`process ${target.eventType}`);
    expect(consumer.spanContext()).toEqual(active);
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(parentSpanId(consumer)).toBe(producer.spanContext().spanId);
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'modulith',
      'messaging.operation': 'process',
      'messaging.destination.name': target.eventType,
      'messaging.message.id': 'e-1',
      'messaging.consumer.group.name': 'ledger',
      'modulith.subscriber': 'ledger.apply',
    });
    expect(consumer.links).toEqual([]);
  });

  it('roots a batch of several traces in a trace of its own, linked to each of them', async () => {
    const first = await appendInRequest();
    const second = await appendInRequest();
    await traceDelivery([envelope('e-1', first.fields), envelope('e-2', second.fields), envelope('e-3', first.fields)], target, async () => undefined);
    const batch = tracing.spans().find((span) => span.kind === SpanKind.CONSUMER)!;
    expect(parentSpanId(batch)).toBe('');
    expect([first.request.traceId, second.request.traceId]).not.toContain(batch.spanContext().traceId);
    expect(batch.links.map((link) => link.context.traceId).sort()).toEqual([first.request.traceId, second.request.traceId].sort());
    expect(batch.attributes['messaging.batch.message_count']).toBe(3);
  });

  it('keeps a batch of one request’s events in that request’s trace, and links it too', async () => {
    const { fields, request } = await appendInRequest();
    await traceDelivery([envelope('e-1', fields), envelope('e-2', fields)], target, async () => undefined);
    const batch = tracing.spans().find((span) => span.kind === SpanKind.CONSUMER)!;
    expect(batch.spanContext().traceId).toBe(request.traceId);
    expect(batch.links.map((link) => link.context.traceId)).toEqual([request.traceId]);
  });

  it('marks a failed delivery, thrown or reported, as an error', async () => {
    const { fields } = await appendInRequest();
    await expect(traceDelivery([envelope('e-1', fields)], target, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await traceDelivery([envelope('e-2', fields)], target, async () => ({ ok: false, error: new Error('refused') }), (outcome) => (outcome.ok ? undefined : outcome.error));
    const failed = tracing.spans().filter((span) => span.kind === SpanKind.CONSUMER);
    expect(failed.map((span) => [span.status.code, span.status.message])).toEqual([
      [SpanStatusCode.ERROR, 'boom'],
      [SpanStatusCode.ERROR, 'refused'],
    ]);
  });

  it('makes one relay span per trace context of a batch, child of the producer span', async () => {
    const { fields, request } = await appendInRequest();
    const relay = traceRelay([envelope('e-1', fields), envelope('e-2', fields), envelope('e-3')], 'redis', performance.now());
    const during = await relay?.run(async () => trace.getActiveSpan()?.spanContext().spanId);
    relay?.end();
    const relayed = tracing.spans().filter((span) => span.name.startsWith('publish '));
    expect(relayed).toHaveLength(1);
    expect(relayed[0].spanContext().traceId).toBe(request.traceId);
    expect(relayed[0].attributes).toMatchObject({ 'modulith.transport': 'redis', 'messaging.operation': 'publish' });
    expect(during).toBe(relayed[0].spanContext().spanId);
  });

  it('carries tracestate with traceparent', async () => {
    const parent = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=x' };
    const fields = await traceDelivery([envelope('e-1', parent)], target, () => traceAppend('ledger', 'ledger.balance-changed', 1, async (traceContext) => traceContext));
    expect(fields?.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(fields?.tracestate).toBe('vendor=x');
  });
});

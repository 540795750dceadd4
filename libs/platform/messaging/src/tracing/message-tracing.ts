import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { EventEnvelope, TraceContextFields } from '../events/event-envelope';

export type { TraceContextFields };

// Spans are made through the OpenTelemetry API only: with no SDK registered (tracing off) it
// hands out non-recording spans, and this module makes none at all (see each function's gate).
const TRACER_NAME = '@modulith/messaging';
const MESSAGING_SYSTEM = 'modulith';
// Always W3C, whatever propagators the process configured: the envelope's fields are named after it.
export const w3c = new W3CTraceContextPropagator();
export const fieldGetter = {
  keys: (carrier: TraceContextFields) => Object.keys(carrier),
  get: (carrier: TraceContextFields, key: string) => (key === 'traceparent' ? carrier.traceparent : key === 'tracestate' ? carrier.tracestate : undefined),
};

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** The active context's trace fields to carry in a message (W3C `traceparent`, `tracestate`). */
export function traceFieldsOf(active: Context): TraceContextFields {
  const carrier: Record<string, string> = {};
  w3c.inject(active, carrier, { set: (target, key, value) => (target[key] = value) });
  return carrier.tracestate ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate } : { traceparent: carrier.traceparent };
}

/**
 * Runs `work` (an outbox append) inside a producer span when a recording span is active (an
 * HTTP request, a handled event), and hands it the trace context to store in the envelopes.
 * Otherwise (tracing off, or the request sampled out) `work` gets nothing and no span is made.
 */
export async function traceAppend<T>(source: string, eventType: string, count: number, work: (fields?: TraceContextFields) => Promise<T>): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return work(undefined);
  const attributes: Attributes = {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation': 'create',
    'messaging.operation.type': 'create',
    'messaging.destination.name': eventType,
    'modulith.module': source,
    ...(count > 1 ? { 'messaging.batch.message_count': count } : {}),
  };
  return tracer().startActiveSpan(`create ${eventType}`, { kind: SpanKind.PRODUCER, attributes }, (span) =>
    settle(span, () => work(traceFieldsOf(trace.setSpan(context.active(), span)))),
  );
}

/** The relay's spans of one batch: `run` hands the batch on inside the first of them, `end` closes them all. */
export interface RelayTrace {
  run<T>(work: () => Promise<T>): Promise<T>;
  end(error?: unknown): void;
}

/**
 * Marks the relay's hand-over of traced events: one producer span per distinct trace context
 * of the batch (the events of one append share one), a child of the span that appended them,
 * from `startTime` (the claim's start, a `performance.now()` reading) until `end`. The broker's
 * calls made in `run` (a Redis pipeline) are children of the first span. Returns undefined,
 * and makes nothing, when no event of the batch carries a trace context.
 */
export function traceRelay(envelopes: readonly EventEnvelope[], transport: string, startTime: number): RelayTrace | undefined {
  let spans: Span[] | undefined;
  const seen = new Set<string>();
  for (const envelope of envelopes) {
    if (envelope.traceparent === undefined || seen.has(envelope.traceparent)) continue;
    seen.add(envelope.traceparent);
    const attributes: Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation': 'publish',
      'messaging.operation.type': 'send',
      'messaging.destination.name': envelope.type,
      'messaging.message.id': envelope.id,
      'modulith.module': envelope.source,
      'modulith.transport': transport,
    };
    (spans ??= []).push(tracer().startSpan(`publish ${envelope.type}`, { kind: SpanKind.PRODUCER, attributes, startTime }, producerContext(envelope)));
  }
  if (!spans) return undefined;
  const all = spans;
  return {
    run: (work) => context.with(trace.setSpan(context.active(), all[0]), work),
    end: (error) => all.forEach((span) => end(span, error)),
  };
}

/** Where a delivery goes: the subscriber, its module and the event type it takes. */
export interface DeliveryTarget {
  readonly subscriber: string;
  readonly module: string;
  readonly eventType: string;
}

/**
 * Runs `work` (one delivery to a subscriber) inside a consumer span, so what it logs, queries
 * and appends belongs to the event's trace. One event: the span is a child of the producer's.
 * A batch: linked to every event's trace context, and a child of theirs only when all share
 * one (a request's events handled together); else the root of a trace of its own. Events that
 * carry no trace context (tracing off, or published outside any trace) make no span.
 */
export async function traceDelivery<T>(
  envelopes: readonly EventEnvelope[],
  target: DeliveryTarget,
  work: () => Promise<T>,
  /** The failure a result reports without throwing, if any: the span's status then says error. */
  failureOf?: (result: T) => unknown,
): Promise<T> {
  // The hot path when tracing is off: one field read per event, no allocation.
  if (!anyTraced(envelopes)) return work();
  const traced = envelopes.filter((envelope) => envelope.traceparent !== undefined);
  const single = envelopes.length === 1;
  const shared = traced.length === envelopes.length && traced.every((envelope) => envelope.traceparent === traced[0].traceparent);
  const parent = shared ? producerContext(traced[0]) : ROOT_CONTEXT;
  const links: Link[] | undefined = single ? undefined : linksOf(traced);
  const attributes: Attributes = {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation': 'process',
    'messaging.operation.type': 'process',
    'messaging.destination.name': target.eventType,
    'messaging.consumer.group.name': target.module,
    'modulith.module': target.module,
    'modulith.subscriber': target.subscriber,
    ...(single ? { 'messaging.message.id': envelopes[0].id } : { 'messaging.batch.message_count': envelopes.length }),
  };
  return tracer().startActiveSpan(`process ${target.eventType}`, { kind: SpanKind.CONSUMER, attributes, links }, parent, (span) => settle(span, work, failureOf));
}

function anyTraced(envelopes: readonly EventEnvelope[]): boolean {
  for (const envelope of envelopes) if (envelope.traceparent !== undefined) return true;
  return false;
}

/** The trace context an envelope (or a call request) carries, as the parent of spans made for it. */
export function producerContext(envelope: TraceContextFields): Context {
  return w3c.extract(ROOT_CONTEXT, envelope, fieldGetter);
}

function linksOf(envelopes: readonly EventEnvelope[]): Link[] {
  const links = new Map<string, Link>();
  for (const envelope of envelopes) {
    const spanContext = trace.getSpanContext(producerContext(envelope));
    if (spanContext && !links.has(envelope.traceparent as string)) links.set(envelope.traceparent as string, { context: spanContext });
  }
  return [...links.values()];
}

/** Ends `span` with `work`'s outcome (an error status when it throws, or when `failureOf` names a failure). */
export async function settle<T>(span: Span, work: () => Promise<T>, failureOf?: (result: T) => unknown): Promise<T> {
  try {
    const result = await work();
    end(span, failureOf?.(result));
    return result;
  } catch (error) {
    end(span, error);
    throw error;
  }
}

function end(span: Span, error?: unknown): void {
  if (error !== undefined) {
    if (error instanceof Error) span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

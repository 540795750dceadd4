import { currentCorrelation, systemClock, uuidv7, ValidationError, type Clock } from '@modulith/core';
import { eventCodec } from './event-schema';
import { assertEventClass, type IntegrationEvent, type IntegrationEventClass } from './integration-event';
import { assertPlainPayload } from './plain-payload';

/**
 * What travels for every integration event: the payload plus where it came from and why.
 * Serialized as JSON; `occurredAt` is an ISO-8601 string.
 */
export interface EventEnvelope<P = unknown> {
  /** Time-ordered UUID (v7): the outbox is drained in this order. */
  readonly id: string;
  readonly type: string;
  readonly version: number;
  readonly occurredAt: string;
  /** Name of the module that published the event. */
  readonly source: string;
  /** Follows the originating request through every module. */
  readonly correlationId: string;
  /** Id of the event whose handling published this one, if any. */
  readonly causationId: string | null;
  readonly payload: P;
  /**
   * The ordering key (see `IntegrationEvent`), absent on unordered events. Events of one key
   * reach each durable subscriber in `keySeq` order.
   */
  readonly orderingKey?: string;
  /**
   * The event's place among its key's events: 1, 2, 3… with no gaps, in the order their
   * transactions committed (assigned by PostgreSQL when the event is appended, never by a clock).
   */
  readonly keySeq?: number;
  /**
   * W3C trace context (`00-<trace id>-<span id>-<flags>`) of the span that appended the event,
   * present only when tracing is on and that span was recording: its handlers' spans continue
   * the trace, in whatever process they run.
   */
  readonly traceparent?: string;
  /** The W3C `tracestate` that went with `traceparent`, when there was one. */
  readonly tracestate?: string;
}

/** The W3C trace context of an event (see `EventEnvelope.traceparent`): what an append's producer span hands its envelopes. */
export type TraceContextFields = Pick<EventEnvelope, 'traceparent' | 'tracestate'>;

/** Explicit correlation for an append; by default it comes from the current context. */
export interface EnvelopeOrigin {
  correlationId?: string;
  causationId?: string | null;
  /** Orders every event of this append under one key; wins over the classes' `orderingKey`. */
  orderingKey?: string;
}

/** Longest ordering key, in characters: it is stored beside every event and in every subscriber's progress. */
export const MAX_ORDERING_KEY_LENGTH = 200;

/**
 * Wraps events published together (one append, one unit of work). Correlation and causation
 * come from `origin`, else from the current correlation context (set per HTTP request and per
 * handled event); events published outside any context start a correlation of their own,
 * named after the first of them. Throws `ValidationError` for a payload that is not plain JSON
 * data and `EventSchemaError` (naming the field) for one that breaks its class's schema.
 */
export function buildEnvelopes(
  events: readonly IntegrationEvent[],
  source: string,
  origin: EnvelopeOrigin = {},
  clock: Clock = systemClock,
  traceContext?: TraceContextFields,
): EventEnvelope[] {
  const context = currentCorrelation();
  const occurredAt = clock.now().toISOString();
  const ids = events.map(() => uuidv7());
  const correlationId = origin.correlationId ?? context?.correlationId ?? ids[0];
  const causationId = origin.causationId !== undefined ? origin.causationId : (context?.causationId ?? null);
  return events.map((event, index) => {
    const eventClass = event.constructor as IntegrationEventClass;
    assertEventClass(eventClass);
    const payload: unknown = event.payload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new ValidationError(`events[${index}].payload`, 'must be a plain object');
    }
    assertPlainPayload(payload, `events[${index}].payload`);
    eventCodec(eventClass).check(payload, `events[${index}].payload`);
    // One object per event, its fields set in place: spreading the trace context and then the
    // key into copies was most of this function's cost in a keyed append of 500 events.
    const envelope: Writable<EventEnvelope> = { id: ids[index], type: eventClass.type, version: eventClass.version, occurredAt, source, correlationId, causationId, payload };
    if (traceContext?.traceparent !== undefined) envelope.traceparent = traceContext.traceparent;
    if (traceContext?.tracestate !== undefined) envelope.tracestate = traceContext.tracestate;
    const orderingKey = origin.orderingKey ?? eventClass.orderingKey?.(payload as never);
    if (orderingKey === undefined) return envelope;
    assertOrderingKey(orderingKey, origin.orderingKey !== undefined ? 'origin.orderingKey' : `events[${index}].orderingKey`);
    envelope.orderingKey = orderingKey;
    return envelope;
  });
}

/** An envelope while it is built (or numbered, see `Outbox.append`) by its producer, before anyone else holds it. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** An ordering key is 1 to 200 characters of storable text. */
function assertOrderingKey(key: unknown, field: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_ORDERING_KEY_LENGTH) {
    throw new ValidationError(field, `must be a string of 1 to ${MAX_ORDERING_KEY_LENGTH} characters`);
  }
  assertPlainPayload(key, field);
}

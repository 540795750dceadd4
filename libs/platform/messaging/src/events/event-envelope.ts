import { currentCorrelation, systemClock, uuidv7, ValidationError, type Clock } from '@modulith/core';
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
}

/** Explicit correlation for an append; by default it comes from the current context. */
export interface EnvelopeOrigin {
  correlationId?: string;
  causationId?: string | null;
}

/**
 * Wraps events published together (one append, one unit of work). Correlation and causation
 * come from `origin`, else from the current correlation context (set per HTTP request and per
 * handled event); events published outside any context start a correlation of their own,
 * named after the first of them.
 */
export function buildEnvelopes(
  events: readonly IntegrationEvent[],
  source: string,
  origin: EnvelopeOrigin = {},
  clock: Clock = systemClock,
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
    return { id: ids[index], type: eventClass.type, version: eventClass.version, occurredAt, source, correlationId, causationId, payload };
  });
}

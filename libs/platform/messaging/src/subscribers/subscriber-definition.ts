import { runWithCorrelation, type CorrelationContext } from '@modulith/core';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '../events/event-envelope';
import type { IntegrationEventClass } from '../events/integration-event';
import { readEvent, type ReadEvent } from '../events/read-event';
import { UnsupportedEventVersionError } from '../messaging.errors';

/** A discovered subscriber: which method of which provider, for which module and event. */
export interface SubscriberDefinition {
  /** The `name` option, or `<module>.<Class>.<method>`. */
  readonly subscriber: string;
  readonly module: string;
  /** Where the module's inbox lives. */
  readonly schema: string;
  readonly eventClass: IntegrationEventClass;
  readonly mode: 'single' | 'batch' | 'best-effort';
  readonly batch: number;
  /** The `timeoutMs` option: longest a call may take; `HANDLER_TIMEOUT_MS` when absent. */
  readonly timeoutMs?: number;
  /** What a dead-lettered keyed event does to its key: see `SubscribeOptions.deadLetteredKey`. */
  readonly deadLetteredKey?: 'hold' | 'release';
  /** The `concurrency` option: attempts in flight at once (capped by `RELAY_CONCURRENCY`, its default). */
  readonly concurrency?: number;
  readonly instance: object;
  readonly method: string;
}

type HandlerMethod = (first: unknown, context: object) => unknown;

/**
 * Calls the subscriber's method with events rebuilt from `envelopes` (upcast to the class's
 * version and checked against its schema: see `readEvent`), under the correlation of the event
 * (causation = its id). A batch runs under the correlation of its first event. If one event
 * cannot be read, the method is not called and the error is thrown.
 */
export async function invokeSubscriber(
  definition: SubscriberDefinition,
  envelopes: readonly EventEnvelope[],
  manager?: EntityManager,
): Promise<void> {
  const read = envelopes.map((envelope) => rebuild(definition, envelope));
  const events = read.map((item) => item.event);
  const method = (definition.instance as Record<string, HandlerMethod>)[definition.method];
  const call =
    definition.mode === 'batch'
      ? () => method.call(definition.instance, events, { manager, envelopes: read.map((item) => item.envelope) })
      : definition.mode === 'single'
        ? () => method.call(definition.instance, events[0], { manager, envelope: read[0].envelope })
        : () => method.call(definition.instance, events[0], { envelope: read[0].envelope });
  await runWithCorrelation(correlationOf(envelopes), call);
}

function rebuild(definition: SubscriberDefinition, envelope: EventEnvelope): ReadEvent {
  // A newer producer may have changed the payload's meaning: wait (retry, then dead-letter,
  // replayable after this consumer is upgraded) rather than misread it.
  if (envelope.version > definition.eventClass.version) {
    throw new UnsupportedEventVersionError(
      `${definition.subscriber} understands ${envelope.type} up to version ${definition.eventClass.version}, got version ${envelope.version}`,
      { subscriber: definition.subscriber, eventId: envelope.id, type: envelope.type, version: envelope.version },
    );
  }
  return readEvent(definition.eventClass, envelope);
}

function correlationOf(envelopes: readonly EventEnvelope[]): CorrelationContext {
  const [first] = envelopes;
  return envelopes.length === 1 ? { correlationId: first.correlationId, causationId: first.id } : { correlationId: first.correlationId };
}

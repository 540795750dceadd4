import { runWithCorrelation, type CorrelationContext } from '@modulith/core';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '../events/event-envelope';
import { instantiateEvent, type IntegrationEvent, type IntegrationEventClass } from '../events/integration-event';
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
  readonly instance: object;
  readonly method: string;
}

type HandlerMethod = (first: unknown, context: object) => unknown;

/**
 * Calls the subscriber's method with events rebuilt from `envelopes`, under the correlation of
 * the event (causation = its id). A batch runs under the correlation of its first event.
 */
export async function invokeSubscriber(
  definition: SubscriberDefinition,
  envelopes: readonly EventEnvelope[],
  manager?: EntityManager,
): Promise<void> {
  const events = envelopes.map((envelope) => rebuild(definition, envelope));
  const method = (definition.instance as Record<string, HandlerMethod>)[definition.method];
  const call =
    definition.mode === 'batch'
      ? () => method.call(definition.instance, events, { manager, envelopes })
      : definition.mode === 'single'
        ? () => method.call(definition.instance, events[0], { manager, envelope: envelopes[0] })
        : () => method.call(definition.instance, events[0], { envelope: envelopes[0] });
  await runWithCorrelation(correlationOf(envelopes), call);
}

function rebuild(definition: SubscriberDefinition, envelope: EventEnvelope): IntegrationEvent {
  // A newer producer may have changed the payload's meaning: wait (retry, then dead-letter,
  // replayable after this consumer is upgraded) rather than misread it.
  if (envelope.version > definition.eventClass.version) {
    throw new UnsupportedEventVersionError(
      `${definition.subscriber} understands ${envelope.type} up to version ${definition.eventClass.version}, got version ${envelope.version}`,
      { subscriber: definition.subscriber, eventId: envelope.id, type: envelope.type, version: envelope.version },
    );
  }
  return instantiateEvent(definition.eventClass, envelope.payload as object);
}

function correlationOf(envelopes: readonly EventEnvelope[]): CorrelationContext {
  const [first] = envelopes;
  return envelopes.length === 1 ? { correlationId: first.correlationId, causationId: first.id } : { correlationId: first.correlationId };
}

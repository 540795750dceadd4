import type { EventEnvelope } from '../events/event-envelope';
import { IntegrationEvent, instantiateEvent, type IntegrationEventClass } from '../events/integration-event';

/** Stands for an event whose class no subscriber in this process declares. */
class UnroutedIntegrationEvent extends IntegrationEvent {
  static readonly type = 'modulith.unrouted';
  static readonly version = 1;
}

const envelopes = new WeakMap<IntegrationEvent, EventEnvelope>();

/** Builds the instance the CQRS EventBus routes (it matches handlers by class) for an envelope. */
export function relayedEvent(envelope: EventEnvelope, eventClass: IntegrationEventClass | undefined): IntegrationEvent {
  const event = instantiateEvent(eventClass ?? UnroutedIntegrationEvent, envelope.payload as object);
  envelopes.set(event, envelope);
  return event;
}

/** The envelope of an event that came out of the outbox, or undefined for any other event. */
export function relayedEnvelope(event: unknown): EventEnvelope | undefined {
  return typeof event === 'object' && event !== null ? envelopes.get(event as IntegrationEvent) : undefined;
}

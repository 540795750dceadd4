import type { EventEnvelope } from './event-envelope';
import { eventCodec } from './event-schema';
import { instantiateEvent, type IntegrationEvent, type IntegrationEventClass, type PayloadOf } from './integration-event';

/** An event as its receiver's class reads it, with the envelope it came in (at that version). */
export interface ReadEvent<E extends IntegrationEvent = IntegrationEvent> {
  event: E;
  /** The stored envelope, or a copy with the upcast `payload` and the class's `version`. */
  envelope: EventEnvelope;
}

/**
 * Rebuilds the event a receiver of `eventClass` gets for a stored envelope: upcast from the
 * envelope's version to the class's, then checked against the class's schema. Throws
 * `UnsupportedEventVersionError` (a newer producer) or `EventSchemaError` (a payload that does
 * not fit, e.g. written by a process built from an older commit); the receiver is not called.
 */
export function readEvent<E extends IntegrationEvent>(eventClass: IntegrationEventClass<E>, envelope: EventEnvelope): ReadEvent<E> {
  const payload = eventCodec(eventClass).read(envelope.payload, envelope.version) as PayloadOf<E>;
  const read = envelope.version === eventClass.version ? envelope : { ...envelope, version: eventClass.version, payload };
  return { event: instantiateEvent(eventClass, payload), envelope: read };
}

/**
 * @modulith/messaging/events — what a contracts library declares its events with: the
 * `IntegrationEvent` base class, its codec (schema check and upcasting) and the envelope type.
 * Pulls in no Nest, TypeORM or Redis (tools/architecture/entry-points.spec.ts walks its imports),
 * so a contracts library stays a leaf that any process, tool or client can load.
 */
export { IntegrationEvent } from './events/integration-event';
export type { IntegrationEventClass, PayloadOf, Upcaster } from './events/integration-event';
export { eventCodec } from './events/event-schema';
export type { EventCodec } from './events/event-schema';
export type { EventEnvelope, EnvelopeOrigin } from './events/event-envelope';
export { EventSchemaError, UnsupportedEventVersionError } from './messaging.errors';

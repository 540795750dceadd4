/**
 * @modulith/messaging/transport — for writing a transport of your own: the `Transport` interface
 * that the relay publishes to and subscribers are fed from (pass an instance to
 * `MessagingModule.forRoot({ transport })`), and the `CallTransport` interface that carries
 * remote commands and queries. `@modulith/messaging/redis` holds the Redis Streams ones.
 */
export { TRANSPORT } from './transport/transport';
export type { Transport, TransportSubscription, DeliveryMode, DeliveryHint } from './transport/transport';
export type { AppendedClaim, AppendedRow } from './log/event-log';
export type { EventTransportKind } from './messaging.config';
export { CALL_TRANSPORT } from './calls/call-transport';
export type { CallTransport, CallHandler } from './calls/call-transport';
export type { CallRequest, CallReply, WireError } from './calls/call-wire';
export { CallPayloadError } from './calls/call-payload';
export { CallTransportError } from './messaging.errors';

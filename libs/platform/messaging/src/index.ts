/**
 * @modulith/messaging — integration events between modules: a transactional outbox, a relay
 * that moves committed events to a transport (in-process through the CQRS EventBus, or Redis
 * Streams), idempotent subscribers with per-module inboxes, retries with backoff, dead letters,
 * outbox retention with re-drive, and metrics hooks. See README.md.
 */
export { MessagingModule } from './messaging.module';
export type { MessagingModuleOptions } from './subscribers/messaging-module-registration';
export { messagingConfigFromEnv } from './messaging.config';
export type { MessagingConfig, EventTransportKind, DeclaredSubscriber } from './messaging.config';

export { IntegrationEvent } from './events/integration-event';
export type { IntegrationEventClass, PayloadOf, Upcaster } from './events/integration-event';
export { eventCodec } from './events/event-schema';
export type { EventCodec } from './events/event-schema';
export type { EventEnvelope, EnvelopeOrigin } from './events/event-envelope';
export { Outbox } from './outbox/outbox';
export { OutboxRetention } from './relay/outbox-retention';
export type { RetainedOutbox } from './relay/outbox-retention';
export { OutboxController } from './relay/outbox.controller';
export { runOutboxCommand } from './relay/outbox.command';

export { OnIntegrationEvent } from './subscribers/on-integration-event.decorator';
export type {
  DeliveryContext,
  BatchDeliveryContext,
  BestEffortContext,
  SubscribeOptions,
  BatchSubscribeOptions,
  BestEffortSubscribeOptions,
} from './subscribers/on-integration-event.decorator';
export { inboxMigration } from './inbox/inbox.migration';

export { DeadLetters } from './dead-letters/dead-letters';
export type { DeadLetter, DeadLetterQuery, ReplayedDeadLetter } from './dead-letters/dead-letters';
export { DeadLettersController } from './dead-letters/dead-letters.controller';
export { runDeadLetterCommand } from './dead-letters/dead-letter.command';

export { isDrained, MessagingMetrics } from './metrics/messaging-metrics';
export type { MessagingSample, SubscriberCounters, RelayCounters, MessagingBacklog } from './metrics/messaging-metrics';

export { BoundedQueue } from './backpressure/bounded-queue';
export type { OverflowPolicy } from './backpressure/bounded-queue';
export { retryDelayMs } from './retries/backoff';
export type { BackoffPolicy } from './retries/backoff';

export { MessagingTopology, TopologyError } from './topology/messaging-topology';
export { declaredDurableModule, declaredDurableSubscribers } from './topology/declared-subscriptions';
export type { TopologyStatus } from './topology/messaging-topology';

export { TRANSPORT } from './transport/transport';
export type { Transport, TransportSubscription, DeliveryMode } from './transport/transport';
export { RedisStreamsTransport } from './transport/redis/redis-streams.transport';
export type { RedisStreamsOptions } from './transport/redis/redis-streams.transport';

export { CallRouter } from './calls/call-router';
export { CALL_TRANSPORT } from './calls/call-transport';
export type { CallTransport } from './calls/call-transport';
export { CallPayloadError } from './calls/call-payload';
export type { CallsConfig } from './calls/calls.config';
export { RedisCallTransport } from './transport/redis/redis-calls.transport';
export type { RedisCallsOptions } from './transport/redis/redis-calls.transport';

export { DirectPublishError, UnsupportedEventVersionError, EventSchemaError, ShutdownTimeoutError, CallTransportError } from './messaging.errors';

/**
 * @modulith/messaging — what a module author uses: declare the module once (`defineModule`) and
 * register it (`MessagingModule.forModule`), configure the platform (`MessagingModule.forRoot` /
 * `forRootAsync`), declare events (`IntegrationEvent`), publish them in the transaction that
 * causes them (`Outbox`), subscribe (`@OnIntegrationEvent` and its delivery contexts) and observe
 * best effort (`@ObserveIntegrationEvent`). A module with durable subscribers gets its inbox
 * table automatically. See README.md.
 *
 * The rest has its own entry point: `@modulith/messaging/events` (event base types for contracts
 * libraries, free of Nest, TypeORM and Redis), `/operator` (dead letters, re-drive, metrics,
 * topology), `/transport` (the `Transport` interface, for custom transports), `/redis` (the
 * Redis Streams transports) and `/testing`.
 */
export { MessagingModule } from './messaging.module';
// A module is declared with defineModule and registered with MessagingModule.forModule: one import for both.
export { defineModule } from '@modulith/database';
export type { ModuleDefinition } from '@modulith/database';
export { resolveMessagingConfig } from './messaging.config';
export type { MessagingConfig, MessagingOptions } from './messaging.config';
export type { MessagingAsyncOptions } from './messaging.module-definition';

export { IntegrationEvent } from './events/integration-event';
export type { IntegrationEventClass } from './events/integration-event';
export { Outbox } from './outbox/outbox';

export { OnIntegrationEvent } from './subscribers/on-integration-event.decorator';
export type { DeliveryContext, BatchDeliveryContext, BestEffortContext } from './subscribers/on-integration-event.decorator';
export { ObserveIntegrationEvent } from './observers/observe-integration-event.decorator';

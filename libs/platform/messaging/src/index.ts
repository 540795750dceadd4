/**
 * @modulith/messaging — what a module author uses: register the module (`MessagingModule`),
 * declare events (`IntegrationEvent`), publish them in the transaction that causes them
 * (`Outbox`), subscribe (`@OnIntegrationEvent` and its delivery contexts), observe best effort
 * (`@ObserveIntegrationEvent`) and give a subscribing module its inbox (`inboxMigration`). See README.md.
 *
 * The rest has its own entry point: `@modulith/messaging/events` (event base types for contracts
 * libraries, free of Nest, TypeORM and Redis), `/operator` (dead letters, re-drive, metrics,
 * topology), `/transport` (the `Transport` interface, for custom transports), `/redis` (the
 * Redis Streams transports) and `/testing`.
 */
export { MessagingModule } from './messaging.module';
export type { MessagingModuleOptions } from './subscribers/messaging-module-registration';
export { messagingConfigFromEnv } from './messaging.config';
export type { MessagingConfig } from './messaging.config';

export { IntegrationEvent } from './events/integration-event';
export type { IntegrationEventClass } from './events/integration-event';
export { Outbox } from './outbox/outbox';

export { OnIntegrationEvent } from './subscribers/on-integration-event.decorator';
export type { DeliveryContext, BatchDeliveryContext, BestEffortContext } from './subscribers/on-integration-event.decorator';
export { ObserveIntegrationEvent } from './observers/observe-integration-event.decorator';
export { inboxMigration } from './inbox/inbox.migration';

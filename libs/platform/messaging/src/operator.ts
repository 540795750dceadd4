/**
 * @modulith/messaging/operator — what an operator of a deployment uses, not a module author:
 * dead letters (`DeadLetters`, its controller and CLI command), outbox retention and re-drive
 * (`OutboxRetention`, `OutboxController`, `runOutboxCommand`), metrics (`MessagingMetrics`), the
 * topology guard (`MessagingTopology`) and the declaration of durable subscribers hosted in
 * other processes (`declaredDurableSubscribers`).
 */
export { DeadLetters } from './dead-letters/dead-letters';
export type { DeadLetter, DeadLetterQuery, ReplayedDeadLetter } from './dead-letters/dead-letters';
export { DeadLettersController } from './dead-letters/dead-letters.controller';
export { runDeadLetterCommand } from './dead-letters/dead-letter.command';

export { OutboxRetention } from './outbox/outbox-retention';
export type { RetainedOutbox } from './outbox/outbox-retention';
export { OutboxController } from './outbox/outbox.controller';
export { runOutboxCommand } from './outbox/outbox.command';

export { isDrained, MessagingMetrics } from './metrics/messaging-metrics';
export type { MessagingSample, SubscriberCounters, RelayCounters, MessagingBacklog } from './metrics/messaging-metrics';

export { MessagingTopology, TopologyError } from './topology/messaging-topology';
export type { TopologyStatus } from './topology/messaging-topology';
export { declaredDurableModule, declaredDurableSubscribers } from './topology/declared-subscriptions';
export type { DeclaredSubscriber } from './messaging.config';
export { ShutdownTimeoutError } from './messaging.errors';

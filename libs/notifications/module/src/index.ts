/**
 * @modulith/notifications — WebSocket fan-out of `BalanceChanged` (path `/ws`): on subscribe the
 * current balances (the ledger's `GetBalanceQuery`), then the changes after them, no gap, no
 * overlap. Owns no schema. Consumes `BalanceChanged` best effort (every instance sees every
 * event); publishes nothing.
 * `ConnectionRegistry` is exported for monitoring only (connections, queued, dropped).
 * Configure with `NotificationsModule.forRoot(options)` or `forRootAsync(...)`; bare, it takes the defaults.
 */
export { NotificationsModule } from './notifications.module';
export type { NotificationsOptions } from './notifications.config';
export { ConnectionRegistry } from './connection-registry';
export type { NotificationsStats } from './connection-registry';

/**
 * @modulith/notifications — WebSocket fan-out of `BalanceChanged` (path `/ws`): on subscribe the
 * current balances (the ledger's `GetBalanceQuery`), then the changes after them, no gap, no
 * overlap. Owns no schema. Consumes `BalanceChanged` best effort (every instance sees every
 * event); publishes nothing.
 * `ConnectionRegistry` is exported for monitoring only (connections, queued, dropped).
 */
export { NotificationsModule } from './notifications.module';
export { ConnectionRegistry } from './connection-registry';
export type { NotificationsStats } from './connection-registry';

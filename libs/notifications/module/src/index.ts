/**
 * @modulith/notifications — WebSocket fan-out of `BalanceChanged` (path `/ws`). Owns no schema.
 * Consumes `BalanceChanged` best effort (every instance sees every event); publishes nothing.
 * `ConnectionRegistry` is exported for monitoring only (connections, queued, dropped).
 */
export { NotificationsModule } from './notifications.module';
export { ConnectionRegistry } from './connection-registry';
export type { NotificationsStats } from './connection-registry';

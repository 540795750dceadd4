import { envInt } from '@modulith/core';

/** Limits that keep one slow WebSocket client from costing memory or slowing anyone else. */
export interface NotificationsConfig {
  /** Messages waiting per connection; beyond it the oldest is dropped and counted. */
  queueSize: number;
  /** Bytes the socket may hold unsent before we stop writing to it and let the queue absorb. */
  maxBufferedBytes: number;
  /** Accounts one connection may follow. */
  maxSubscriptions: number;
  /** Client commands one connection may have waiting for their answer (a subscribe waits for balances); beyond it a command is refused. */
  maxPendingCommands: number;
  /** Longest a `subscribe` may take to read the current balances (ms), queueing for a read included; then it is refused. */
  snapshotTimeoutMs: number;
  /**
   * Live changes one connection holds while the balances of its new accounts are read; past it
   * they are discarded and the balances read again (a later read covers them).
   */
  snapshotBufferSize: number;
  /** Balance reads (`GetBalanceQuery`, one per account) running at once in this process, over all connections. */
  snapshotConcurrency: number;
}

export const NOTIFICATIONS_CONFIG = Symbol('NOTIFICATIONS_CONFIG');

export function notificationsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationsConfig {
  return {
    queueSize: envInt(env, 'NOTIFY_QUEUE_SIZE', 1000, 1),
    maxBufferedBytes: envInt(env, 'NOTIFY_MAX_BUFFERED_BYTES', 1024 * 1024, 1024),
    maxSubscriptions: envInt(env, 'NOTIFY_MAX_SUBSCRIPTIONS', 1000, 1),
    maxPendingCommands: envInt(env, 'NOTIFY_MAX_PENDING_COMMANDS', 16, 1),
    snapshotTimeoutMs: envInt(env, 'NOTIFY_SNAPSHOT_TIMEOUT_MS', 5000, 1),
    snapshotBufferSize: envInt(env, 'NOTIFY_SNAPSHOT_BUFFER_SIZE', 10_000, 1),
    snapshotConcurrency: envInt(env, 'NOTIFY_SNAPSHOT_CONCURRENCY', 8, 1),
  };
}

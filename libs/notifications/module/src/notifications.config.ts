import { envInt } from '@modulith/core';

/** Limits that keep one slow WebSocket client from costing memory or slowing anyone else. */
export interface NotificationsConfig {
  /** Messages waiting per connection; beyond it the oldest is dropped and counted. */
  queueSize: number;
  /** Bytes the socket may hold unsent before we stop writing to it and let the queue absorb. */
  maxBufferedBytes: number;
  /** Accounts one connection may follow. */
  maxSubscriptions: number;
}

export const NOTIFICATIONS_CONFIG = Symbol('NOTIFICATIONS_CONFIG');

export function notificationsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationsConfig {
  return {
    queueSize: envInt(env, 'NOTIFY_QUEUE_SIZE', 1000, 1),
    maxBufferedBytes: envInt(env, 'NOTIFY_MAX_BUFFERED_BYTES', 1024 * 1024, 1024),
    maxSubscriptions: envInt(env, 'NOTIFY_MAX_SUBSCRIPTIONS', 1000, 1),
  };
}

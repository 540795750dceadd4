import { envBool, envInt } from '@modulith/core';

/** Every knob of the messaging platform. Read from the environment once, at start-up. */
export interface MessagingConfig {
  /** Run the outbox relay in this process (`RELAY_ENABLED`). */
  relayEnabled: boolean;
  /** Outbox rows claimed per relay transaction (`RELAY_BATCH_SIZE`). */
  relayBatchSize: number;
  /** Claim loops per process; each holds one connection while its batch is delivered (`RELAY_CONCURRENCY`). */
  relayConcurrency: number;
  /** Fallback poll when no wake-up arrives (`RELAY_POLL_INTERVAL_MS`). */
  relayPollIntervalMs: number;
  /** At most one NOTIFY per window per process (`RELAY_NOTIFY_DEBOUNCE_MS`). */
  relayNotifyDebounceMs: number;
  /** LISTEN for other processes' commits (`RELAY_LISTEN`). */
  relayListen: boolean;
  /** Attempts per event and subscriber, the first included, before the dead-letter store (`HANDLER_MAX_ATTEMPTS`). */
  handlerMaxAttempts: number;
  /** First retry delay; doubles per attempt (`RETRY_BASE_DELAY_MS`). */
  retryBaseDelayMs: number;
  /** Cap on the retry delay (`RETRY_MAX_DELAY_MS`). */
  retryMaxDelayMs: number;
  /** Longest sleep of the retry poller between looks at the retry table (`RETRY_POLL_INTERVAL_MS`). */
  retryPollIntervalMs: number;
  /** Due retries claimed per retry-poller transaction (`RETRY_BATCH_SIZE`). */
  retryBatchSize: number;
  /** Events a best-effort subscriber may have waiting before the oldest are dropped (`BEST_EFFORT_QUEUE_CAPACITY`). */
  bestEffortQueueCapacity: number;
  /** Inbox rows older than this are pruned; 0 keeps them forever (`INBOX_RETENTION_HOURS`). */
  inboxRetentionHours: number;
  /** How often the inbox pruner runs (`INBOX_PRUNE_INTERVAL_MS`). */
  inboxPruneIntervalMs: number;
  /** How long shutdown waits for in-flight batches (`MESSAGING_SHUTDOWN_TIMEOUT_MS`). */
  shutdownTimeoutMs: number;
}

export function messagingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MessagingConfig {
  return {
    relayEnabled: envBool(env, 'RELAY_ENABLED', true),
    relayBatchSize: envInt(env, 'RELAY_BATCH_SIZE', 500, 1, 10_000),
    relayConcurrency: envInt(env, 'RELAY_CONCURRENCY', 1, 1, 16),
    relayPollIntervalMs: envInt(env, 'RELAY_POLL_INTERVAL_MS', 1000, 10, 3_600_000),
    relayNotifyDebounceMs: envInt(env, 'RELAY_NOTIFY_DEBOUNCE_MS', 50, 0, 60_000),
    relayListen: envBool(env, 'RELAY_LISTEN', true),
    handlerMaxAttempts: envInt(env, 'HANDLER_MAX_ATTEMPTS', 5, 1, 100),
    retryBaseDelayMs: envInt(env, 'RETRY_BASE_DELAY_MS', 1000, 1, 86_400_000),
    retryMaxDelayMs: envInt(env, 'RETRY_MAX_DELAY_MS', 300_000, 1, 86_400_000),
    retryPollIntervalMs: envInt(env, 'RETRY_POLL_INTERVAL_MS', 1000, 10, 3_600_000),
    retryBatchSize: envInt(env, 'RETRY_BATCH_SIZE', 100, 1, 10_000),
    bestEffortQueueCapacity: envInt(env, 'BEST_EFFORT_QUEUE_CAPACITY', 10_000, 1, 10_000_000),
    inboxRetentionHours: envInt(env, 'INBOX_RETENTION_HOURS', 168, 0, 87_600),
    inboxPruneIntervalMs: envInt(env, 'INBOX_PRUNE_INTERVAL_MS', 3_600_000, 1000, 86_400_000),
    shutdownTimeoutMs: envInt(env, 'MESSAGING_SHUTDOWN_TIMEOUT_MS', 30_000, 0, 3_600_000),
  };
}

export const MESSAGING_CONFIG = Symbol('MESSAGING_CONFIG');

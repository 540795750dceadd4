import { ConfigurationError, envBool, envChoice, envInt, envString } from '@modulith/core';
import { assertCallsConfig, callsConfigFromEnv, type CallsConfig } from './calls/calls.config';

/** `inprocess`: subscribers in the relaying process, through the event log. `redis`: Redis Streams. */
export type EventTransportKind = 'inprocess' | 'redis';

/** Every knob of the messaging platform. Read from the environment once, at start-up. */
/** A durable subscriber of the deployment, as declared by its module's decorators. */
export interface DeclaredSubscriber {
  subscriber: string;
  eventType: string;
}

export interface MessagingConfig extends CallsConfig {
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
  /**
   * Longest a handler call may take, in ms (`HANDLER_TIMEOUT_MS`); past it the attempt fails, its
   * transaction is abandoned with its connection, and the events are retried. Also each
   * statement's bound (`statement_timeout`) on messaging connections. Per subscriber: `{ timeoutMs }`.
   */
  handlerTimeoutMs: number;
  /** Longest wait for a row or table lock inside a messaging transaction, in ms (`MESSAGING_LOCK_TIMEOUT_MS`); then the attempt fails and is retried. */
  lockTimeoutMs: number;
  /**
   * In-process transport: how long a process keeps a durable subscriber's log cursor without
   * renewing it, in ms (`MESSAGING_LOG_LEASE_MS`). One process at a time reads a subscriber's log;
   * it renews its lease while it works, and if it dies another takes the cursor over after this.
   */
  logLeaseMs: number;
  /**
   * Connections of messaging's own pool (`MESSAGING_POOL_SIZE`), separate from the request pool
   * (`DB_POOL_SIZE`) so background delivery can never take the connections HTTP needs. 0 (the
   * default) sizes it from the relay loops and durable subscribers hosted here; a smaller explicit
   * value is refused at start-up.
   */
  messagingPoolSize: number;
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
  /**
   * Modules of this deployment with durable subscribers, wherever they run (the composition root
   * knows them; see `declaredDurableModule`). With the in-process transport a relaying process
   * that does not host them all refuses to start, even before any of them ever registered.
   * Not read from the environment; default none.
   */
  declaredDurableModules: readonly string[];
  /**
   * Names of every durable subscriber of the deployment, hosted here or not (see
   * `declaredDurableSubscribers`): each is registered at start, so its keyed events count from
   * its first declaration rather than from its own process's first start.
   */
  declaredDurableSubscribers: readonly DeclaredSubscriber[];
  /** Register this process in `messaging.instances` and check the topology; CLI commands that relay nothing pass false. */
  registerInstance: boolean;
  /** How often this process refreshes its row in `messaging.instances` and re-checks the topology (`MESSAGING_HEARTBEAT_INTERVAL_MS`). */
  heartbeatIntervalMs: number;
  /** A row not refreshed for this long belongs to a dead process and is ignored (`MESSAGING_INSTANCE_EXPIRY_MS`). */
  instanceExpiryMs: number;
  /** Relayed events an `@ObserveIntegrationEvent` observer may have waiting before the oldest are dropped (`OBSERVER_QUEUE_CAPACITY`). */
  observerQueueCapacity: number;
  /** Calls in flight per `@ObserveIntegrationEvent` observer (`OBSERVER_CONCURRENCY`). */
  observerConcurrency: number;
  /** Delivered outbox rows are kept this long for a re-drive; 0 deletes them on delivery (`OUTBOX_RETENTION_HOURS`). */
  outboxRetentionHours: number;
  /** How often relaying processes delete kept rows past the retention (`OUTBOX_PRUNE_INTERVAL_MS`). */
  outboxPruneIntervalMs: number;
  /** The transport between relay and subscribers (`EVENT_TRANSPORT`). */
  eventTransport: EventTransportKind;
  /** Redis server for `EVENT_TRANSPORT=redis` (`REDIS_URL`), e.g. `redis://redis:6379/0`. */
  redisUrl?: string;
  /** Prefix of every Redis key this app uses; apps sharing a Redis need their own (`REDIS_KEY_PREFIX`). */
  redisKeyPrefix: string;
  /**
   * Handled entries a stream keeps, about (`REDIS_STREAM_MAXLEN`): beyond it entries are trimmed
   * once every consumer group acknowledged them, never before (a lagging group holds the stream
   * above it, reported). 0 never trims.
   */
  redisStreamMaxLen: number;
  /** A pending entry idle this long is taken over from its (presumably dead) consumer (`REDIS_CLAIM_IDLE_MS`). */
  redisClaimIdleMs: number;
  /** Longest wait for Redis to answer a publish before the relay gives the batch back (`REDIS_COMMAND_TIMEOUT_MS`). */
  redisCommandTimeoutMs: number;
}

export function messagingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MessagingConfig {
  const config: MessagingConfig = {
    relayEnabled: envBool(env, 'RELAY_ENABLED', true),
    relayBatchSize: envInt(env, 'RELAY_BATCH_SIZE', 500, 1, 10_000),
    relayConcurrency: envInt(env, 'RELAY_CONCURRENCY', 1, 1, 16),
    relayPollIntervalMs: envInt(env, 'RELAY_POLL_INTERVAL_MS', 1000, 10, 3_600_000),
    relayNotifyDebounceMs: envInt(env, 'RELAY_NOTIFY_DEBOUNCE_MS', 50, 0, 60_000),
    relayListen: envBool(env, 'RELAY_LISTEN', true),
    handlerMaxAttempts: envInt(env, 'HANDLER_MAX_ATTEMPTS', 5, 1, 100),
    handlerTimeoutMs: envInt(env, 'HANDLER_TIMEOUT_MS', 30_000, 100, 3_600_000),
    lockTimeoutMs: envInt(env, 'MESSAGING_LOCK_TIMEOUT_MS', 10_000, 10, 3_600_000),
    logLeaseMs: envInt(env, 'MESSAGING_LOG_LEASE_MS', 5_000, 300, 3_600_000),
    messagingPoolSize: envInt(env, 'MESSAGING_POOL_SIZE', 0, 0, 1000),
    retryBaseDelayMs: envInt(env, 'RETRY_BASE_DELAY_MS', 1000, 1, 86_400_000),
    retryMaxDelayMs: envInt(env, 'RETRY_MAX_DELAY_MS', 300_000, 1, 86_400_000),
    retryPollIntervalMs: envInt(env, 'RETRY_POLL_INTERVAL_MS', 1000, 10, 3_600_000),
    retryBatchSize: envInt(env, 'RETRY_BATCH_SIZE', 100, 1, 10_000),
    bestEffortQueueCapacity: envInt(env, 'BEST_EFFORT_QUEUE_CAPACITY', 10_000, 1, 10_000_000),
    inboxRetentionHours: envInt(env, 'INBOX_RETENTION_HOURS', 168, 0, 87_600),
    inboxPruneIntervalMs: envInt(env, 'INBOX_PRUNE_INTERVAL_MS', 3_600_000, 1000, 86_400_000),
    shutdownTimeoutMs: envInt(env, 'MESSAGING_SHUTDOWN_TIMEOUT_MS', 30_000, 0, 3_600_000),
    registerInstance: true,
    declaredDurableModules: [],
    declaredDurableSubscribers: [],
    heartbeatIntervalMs: envInt(env, 'MESSAGING_HEARTBEAT_INTERVAL_MS', 5000, 50, 600_000),
    instanceExpiryMs: envInt(env, 'MESSAGING_INSTANCE_EXPIRY_MS', 20_000, 100, 3_600_000),
    observerQueueCapacity: envInt(env, 'OBSERVER_QUEUE_CAPACITY', 10_000, 1, 10_000_000),
    observerConcurrency: envInt(env, 'OBSERVER_CONCURRENCY', 1, 1, 1000),
    outboxRetentionHours: envInt(env, 'OUTBOX_RETENTION_HOURS', 0, 0, 87_600),
    outboxPruneIntervalMs: envInt(env, 'OUTBOX_PRUNE_INTERVAL_MS', 600_000, 1000, 86_400_000),
    ...redisConfigFromEnv(env),
    ...callsConfigFromEnv(env),
  };
  assertMessagingConfig(config);
  return config;
}

/**
 * Checks settings that are only wrong together; `forRoot` runs it on the merged configuration.
 * A re-drive relies on inboxes to skip what was handled: they must remember at least as long as
 * the outbox keeps delivered events, or a re-driven event could be applied twice.
 */
export function assertMessagingConfig(config: MessagingConfig): void {
  if (config.outboxRetentionHours > 0 && config.inboxRetentionHours > 0 && config.inboxRetentionHours < config.outboxRetentionHours) {
    throw new ConfigurationError(
      `INBOX_RETENTION_HOURS (${config.inboxRetentionHours}) must be at least OUTBOX_RETENTION_HOURS (${config.outboxRetentionHours}): ` +
        'a re-driven event whose inbox row was pruned would be applied again',
      { variable: 'INBOX_RETENTION_HOURS' },
    );
  }
  // A live process must never look expired between two of its heartbeats.
  if (config.instanceExpiryMs < 2 * config.heartbeatIntervalMs) {
    throw new ConfigurationError(
      `MESSAGING_INSTANCE_EXPIRY_MS (${config.instanceExpiryMs}) must be at least twice MESSAGING_HEARTBEAT_INTERVAL_MS (${config.heartbeatIntervalMs})`,
      { variable: 'MESSAGING_INSTANCE_EXPIRY_MS' },
    );
  }
  assertCallsConfig(config);
  if (config.eventTransport === 'redis' && !config.redisUrl) {
    throw new ConfigurationError('EVENT_TRANSPORT=redis needs REDIS_URL, e.g. redis://127.0.0.1:6379', { variable: 'REDIS_URL' });
  }
}

type TransportConfig = Pick<
  MessagingConfig,
  'eventTransport' | 'redisUrl' | 'redisKeyPrefix' | 'redisStreamMaxLen' | 'redisClaimIdleMs' | 'redisCommandTimeoutMs'
>;

function redisConfigFromEnv(env: NodeJS.ProcessEnv): TransportConfig {
  const eventTransport = envChoice(env, 'EVENT_TRANSPORT', ['inprocess', 'redis'] as const, 'inprocess');
  const redisUrl = envString(env, 'REDIS_URL');
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigurationError('REDIS_URL must start with redis:// or rediss://', { variable: 'REDIS_URL' });
  }
  const redisKeyPrefix = envString(env, 'REDIS_KEY_PREFIX', 'modulith');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(redisKeyPrefix)) {
    throw new ConfigurationError('REDIS_KEY_PREFIX must be 1-64 letters, digits or _.:-', { variable: 'REDIS_KEY_PREFIX' });
  }
  return {
    eventTransport,
    redisUrl,
    redisKeyPrefix,
    redisStreamMaxLen: envInt(env, 'REDIS_STREAM_MAXLEN', 1_000_000, 0, 1_000_000_000),
    redisClaimIdleMs: envInt(env, 'REDIS_CLAIM_IDLE_MS', 60_000, 100, 86_400_000),
    redisCommandTimeoutMs: envInt(env, 'REDIS_COMMAND_TIMEOUT_MS', 10_000, 100, 600_000),
  };
}

export const MESSAGING_CONFIG = Symbol('MESSAGING_CONFIG');

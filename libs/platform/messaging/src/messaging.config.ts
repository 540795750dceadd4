import { optionError, resolveIntOptions, type IntOptionRule } from '@modulith/core';
import { assertCallsConfig, CALLS_INT_RULES, type CallsConfig } from './calls/calls.config';
import type { Transport } from './transport/transport';

/** `inprocess`: subscribers in the relaying process, through the event log. `redis`: Redis Streams. */
export type EventTransportKind = 'inprocess' | 'redis';

/** A durable subscriber of the deployment, as declared by its module's decorators. */
export interface DeclaredSubscriber {
  subscriber: string;
  eventType: string;
}

/**
 * Every setting of the messaging platform, resolved (see `MessagingOptions` for what a host app
 * gives). In parentheses: the environment variable the reference app (apps/api) maps to it.
 */
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
   * No environment variable (the app derives it from its module catalog); default none.
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
  /**
   * Deliver events to this process's subscribers (default true). CLI commands (migrate, verify,
   * dead letters, outbox) pass false: they load the modules for their queries and tables, but
   * must not apply events with their code beside the running app. Needs `relayEnabled: false`.
   * Not read from the environment.
   */
  consumeEvents: boolean;
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
  /**
   * A pending entry idle this long is taken over from its consumer, whatever its presence says
   * (`REDIS_CLAIM_IDLE_MS`): the fallback for consumers that announce none (an older version).
   */
  redisClaimIdleMs: number;
  /**
   * How often a process renews the presence of its event consumers in Redis, and each of its
   * consumer groups looks for entries held by consumers whose presence lapsed
   * (`REDIS_CONSUMER_HEARTBEAT_MS`).
   */
  redisConsumerHeartbeatMs: number;
  /**
   * A consumer whose presence was not renewed for this long (Redis's clock) is dead: a live
   * consumer of its group takes its pending entries over at once (`REDIS_CONSUMER_TTL_MS`). At
   * least twice the heartbeat. A process paused longer (a stop, a very long GC pause) loses its
   * entries to another, which the inbox and key progress make harmless.
   */
  redisConsumerTtlMs: number;
  /**
   * This process's consumer name in every consumer group (`REDIS_CONSUMER_NAME`), e.g. a
   * Kubernetes pod name: a restarted replica then first handles the entries it held before.
   * Must be unique among live processes. Default `<host>:<pid>:<random>`.
   */
  redisConsumerName?: string;
  /** Longest wait for Redis to answer a publish before the relay gives the batch back (`REDIS_COMMAND_TIMEOUT_MS`). */
  redisCommandTimeoutMs: number;
}

/**
 * What a host app passes to `MessagingModule.forRoot` (or returns from `forRootAsync`'s
 * factory): any of the settings, each defaulted by the library when absent (defaults in the
 * README's configuration table, bounds in `INT_RULES` below; times in ms).
 */
export type MessagingOptions = Partial<MessagingConfig> & {
  /** An event transport of the app's own (see `@modulith/messaging/transport`), instead of the one `eventTransport` names. */
  transport?: Transport;
};

const OWNER = 'MessagingModule';

/** Defaults and bounds of the integer settings (times in ms unless the name says otherwise). */
const INT_RULES = {
  relayBatchSize: { default: 500, min: 1, max: 10_000 },
  relayConcurrency: { default: 1, min: 1, max: 16 },
  relayPollIntervalMs: { default: 1000, min: 10, max: 3_600_000 },
  relayNotifyDebounceMs: { default: 50, min: 0, max: 60_000 },
  handlerMaxAttempts: { default: 5, min: 1, max: 10_000 },
  handlerTimeoutMs: { default: 30_000, min: 100, max: 3_600_000 },
  lockTimeoutMs: { default: 10_000, min: 10, max: 3_600_000 },
  logLeaseMs: { default: 5_000, min: 300, max: 3_600_000 },
  messagingPoolSize: { default: 0, min: 0, max: 1000 },
  retryBaseDelayMs: { default: 1000, min: 1, max: 86_400_000 },
  retryMaxDelayMs: { default: 300_000, min: 1, max: 86_400_000 },
  retryPollIntervalMs: { default: 1000, min: 10, max: 3_600_000 },
  retryBatchSize: { default: 100, min: 1, max: 10_000 },
  bestEffortQueueCapacity: { default: 10_000, min: 1, max: 10_000_000 },
  inboxRetentionHours: { default: 168, min: 0, max: 87_600 },
  inboxPruneIntervalMs: { default: 3_600_000, min: 1000, max: 86_400_000 },
  shutdownTimeoutMs: { default: 30_000, min: 0, max: 3_600_000 },
  heartbeatIntervalMs: { default: 5000, min: 50, max: 600_000 },
  instanceExpiryMs: { default: 20_000, min: 100, max: 3_600_000 },
  observerQueueCapacity: { default: 10_000, min: 1, max: 10_000_000 },
  observerConcurrency: { default: 1, min: 1, max: 1000 },
  outboxRetentionHours: { default: 0, min: 0, max: 87_600 },
  outboxPruneIntervalMs: { default: 600_000, min: 1000, max: 86_400_000 },
  redisStreamMaxLen: { default: 1_000_000, min: 0, max: 1_000_000_000 },
  redisClaimIdleMs: { default: 60_000, min: 100, max: 86_400_000 },
  redisConsumerHeartbeatMs: { default: 1000, min: 50, max: 600_000 },
  redisConsumerTtlMs: { default: 10_000, min: 100, max: 3_600_000 },
  redisCommandTimeoutMs: { default: 10_000, min: 100, max: 600_000 },
  ...CALLS_INT_RULES,
} satisfies Record<string, IntOptionRule>;

const TRANSPORTS: readonly EventTransportKind[] = ['inprocess', 'redis'];

/**
 * The complete configuration from a host app's options: the library's default for each absent
 * setting, each given one checked. Throws `ConfigurationError` naming the option
 * (`context.option`) when a value is out of bounds or settings contradict each other. Reads no
 * environment variable: explicit options are all there is.
 */
export function resolveMessagingConfig(options: MessagingOptions = {}): MessagingConfig {
  const config: MessagingConfig = {
    relayEnabled: options.relayEnabled ?? true,
    relayListen: options.relayListen ?? true,
    registerInstance: options.registerInstance ?? true,
    consumeEvents: options.consumeEvents ?? true,
    declaredDurableModules: options.declaredDurableModules ?? [],
    declaredDurableSubscribers: options.declaredDurableSubscribers ?? [],
    eventTransport: options.eventTransport ?? 'inprocess',
    redisUrl: options.redisUrl,
    redisKeyPrefix: options.redisKeyPrefix ?? 'modulith',
    redisConsumerName: options.redisConsumerName,
    callCheckInProcess: options.callCheckInProcess ?? false,
    ...resolveIntOptions(OWNER, INT_RULES, options),
  };
  assertMessagingConfig(config);
  return config;
}

/**
 * Checks settings that are only wrong together, or whose form matters; `resolveMessagingConfig`
 * runs it. A re-drive relies on inboxes to skip what was handled: they must remember at least as
 * long as the outbox keeps delivered events, or a re-driven event could be applied twice.
 */
function assertMessagingConfig(config: MessagingConfig): void {
  if (!TRANSPORTS.includes(config.eventTransport)) {
    throw optionError(OWNER, 'eventTransport', `must be one of ${TRANSPORTS.join(', ')}, got "${config.eventTransport}"`);
  }
  if (config.redisUrl !== undefined && !/^rediss?:\/\//.test(config.redisUrl)) {
    throw optionError(OWNER, 'redisUrl', 'must start with redis:// or rediss://');
  }
  if (config.eventTransport === 'redis' && !config.redisUrl) {
    throw optionError(OWNER, 'redisUrl', 'is required with eventTransport "redis", e.g. redis://127.0.0.1:6379');
  }
  // A relay hands events to the subscribers of its own process: with none started it would move
  // their events on unseen, while the topology check still counts this process as hosting them.
  if (!config.consumeEvents && config.relayEnabled) {
    throw optionError(OWNER, 'consumeEvents', 'false needs relayEnabled: false (a relay here would pass events to subscribers that never run)');
  }
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(config.redisKeyPrefix)) {
    throw optionError(OWNER, 'redisKeyPrefix', `must be 1-64 letters, digits or _.:-, got "${config.redisKeyPrefix}"`);
  }
  if (config.redisConsumerName !== undefined && !/^[A-Za-z0-9_.:@-]{1,128}$/.test(config.redisConsumerName)) {
    throw optionError(OWNER, 'redisConsumerName', `must be 1-128 letters, digits or _.:@-, got "${config.redisConsumerName}"`);
  }
  // A live consumer must never look dead between two of its renewals.
  if (config.redisConsumerTtlMs < 2 * config.redisConsumerHeartbeatMs) {
    throw optionError(
      OWNER,
      'redisConsumerTtlMs',
      `(${config.redisConsumerTtlMs}) must be at least twice redisConsumerHeartbeatMs (${config.redisConsumerHeartbeatMs})`,
    );
  }
  if (config.outboxRetentionHours > 0 && config.inboxRetentionHours > 0 && config.inboxRetentionHours < config.outboxRetentionHours) {
    throw optionError(
      OWNER,
      'inboxRetentionHours',
      `(${config.inboxRetentionHours}) must be at least outboxRetentionHours (${config.outboxRetentionHours}): ` +
        'a re-driven event whose inbox row was pruned would be applied again',
    );
  }
  // A live process must never look expired between two of its heartbeats.
  if (config.instanceExpiryMs < 2 * config.heartbeatIntervalMs) {
    throw optionError(
      OWNER,
      'instanceExpiryMs',
      `(${config.instanceExpiryMs}) must be at least twice heartbeatIntervalMs (${config.heartbeatIntervalMs})`,
    );
  }
  assertCallsConfig(OWNER, config);
}

export const MESSAGING_CONFIG = Symbol('MESSAGING_CONFIG');

import { ConfigurationError, envBool, envChoice, envInt, envString } from '@modulith/core';
import * as path from 'node:path';
import type { DatabaseOptions } from '@modulith/database';
import type { HttpAdapterOptions } from '@modulith/http';
import type { MessagingOptions } from '@modulith/messaging';
import type { NotificationsOptions } from '@modulith/notifications';
import type { ObservabilityOptions } from '@modulith/observability';

// The one place where environment variables become the platform libraries' options (the
// libraries read none; their defaults and checks apply to what is left unset). Each table maps
// an option to its variable, and serves twice: to read the variable with the one parser
// (@modulith/core's env readers), and to name the variable when a library refuses the option.

type Env = NodeJS.ProcessEnv;
type IntVariables<T> = { readonly [K in keyof T]?: string };

const MESSAGING_INTS = {
  relayBatchSize: 'RELAY_BATCH_SIZE',
  relayConcurrency: 'RELAY_CONCURRENCY',
  relayPollIntervalMs: 'RELAY_POLL_INTERVAL_MS',
  relayNotifyDebounceMs: 'RELAY_NOTIFY_DEBOUNCE_MS',
  handlerMaxAttempts: 'HANDLER_MAX_ATTEMPTS',
  handlerTimeoutMs: 'HANDLER_TIMEOUT_MS',
  lockTimeoutMs: 'MESSAGING_LOCK_TIMEOUT_MS',
  logLeaseMs: 'MESSAGING_LOG_LEASE_MS',
  messagingPoolSize: 'MESSAGING_POOL_SIZE',
  retryBaseDelayMs: 'RETRY_BASE_DELAY_MS',
  retryMaxDelayMs: 'RETRY_MAX_DELAY_MS',
  retryPollIntervalMs: 'RETRY_POLL_INTERVAL_MS',
  retryBatchSize: 'RETRY_BATCH_SIZE',
  bestEffortQueueCapacity: 'BEST_EFFORT_QUEUE_CAPACITY',
  inboxRetentionHours: 'INBOX_RETENTION_HOURS',
  inboxPruneIntervalMs: 'INBOX_PRUNE_INTERVAL_MS',
  shutdownTimeoutMs: 'MESSAGING_SHUTDOWN_TIMEOUT_MS',
  heartbeatIntervalMs: 'MESSAGING_HEARTBEAT_INTERVAL_MS',
  instanceExpiryMs: 'MESSAGING_INSTANCE_EXPIRY_MS',
  observerQueueCapacity: 'OBSERVER_QUEUE_CAPACITY',
  observerConcurrency: 'OBSERVER_CONCURRENCY',
  outboxRetentionHours: 'OUTBOX_RETENTION_HOURS',
  outboxPruneIntervalMs: 'OUTBOX_PRUNE_INTERVAL_MS',
  redisStreamMaxLen: 'REDIS_STREAM_MAXLEN',
  redisClaimIdleMs: 'REDIS_CLAIM_IDLE_MS',
  redisConsumerHeartbeatMs: 'REDIS_CONSUMER_HEARTBEAT_MS',
  redisConsumerTtlMs: 'REDIS_CONSUMER_TTL_MS',
  redisCommandTimeoutMs: 'REDIS_COMMAND_TIMEOUT_MS',
  callTimeoutMs: 'CALL_TIMEOUT_MS',
  callConcurrency: 'CALL_CONCURRENCY',
  callHeartbeatMs: 'CALL_HEARTBEAT_MS',
  callHostTtlMs: 'CALL_HOST_TTL_MS',
  callStreamMaxLen: 'CALL_STREAM_MAXLEN',
  callOverrunGraceMs: 'CALL_OVERRUN_GRACE_MS',
  callReceiptRetentionHours: 'CALL_RECEIPT_RETENTION_HOURS',
} as const satisfies IntVariables<MessagingOptions>;

const MESSAGING_OTHERS = {
  relayEnabled: 'RELAY_ENABLED',
  relayListen: 'RELAY_LISTEN',
  callCheckInProcess: 'CALL_CHECK_IN_PROCESS',
  eventTransport: 'EVENT_TRANSPORT',
  redisUrl: 'REDIS_URL',
  redisKeyPrefix: 'REDIS_KEY_PREFIX',
  redisConsumerName: 'REDIS_CONSUMER_NAME',
} as const satisfies IntVariables<MessagingOptions>;

const DATABASE_INTS = {
  poolSize: 'DB_POOL_SIZE',
  embeddedPort: 'EMBEDDED_PG_PORT',
  acquireTimeoutMs: 'DB_POOL_ACQUIRE_TIMEOUT_MS',
  statementTimeoutMs: 'DB_STATEMENT_TIMEOUT_MS',
  lockTimeoutMs: 'DB_LOCK_TIMEOUT_MS',
  idleInTransactionTimeoutMs: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
  queryTimeoutMs: 'DB_QUERY_TIMEOUT_MS',
} as const satisfies IntVariables<DatabaseOptions>;

const DATABASE_OTHERS = {
  url: 'DATABASE_URL',
  dataDir: 'DATA_DIR',
  migrateOnStart: 'MIGRATE_ON_START',
} as const satisfies IntVariables<DatabaseOptions>;

const NOTIFICATIONS_INTS = {
  queueSize: 'NOTIFY_QUEUE_SIZE',
  maxBufferedBytes: 'NOTIFY_MAX_BUFFERED_BYTES',
  maxSubscriptions: 'NOTIFY_MAX_SUBSCRIPTIONS',
  maxPendingCommands: 'NOTIFY_MAX_PENDING_COMMANDS',
  snapshotTimeoutMs: 'NOTIFY_SNAPSHOT_TIMEOUT_MS',
  snapshotBufferSize: 'NOTIFY_SNAPSHOT_BUFFER_SIZE',
  snapshotConcurrency: 'NOTIFY_SNAPSHOT_CONCURRENCY',
} as const satisfies IntVariables<NotificationsOptions>;

/** `createHttpAdapter`'s options (nested ones by their path) and their variables. */
const HTTP = {
  bodyLimitBytes: 'HTTP_BODY_LIMIT_BYTES',
  requestTimeoutMs: 'HTTP_REQUEST_TIMEOUT_MS',
  headersTimeoutMs: 'HTTP_HEADERS_TIMEOUT_MS',
  trustProxy: 'HTTP_TRUST_PROXY',
  'rateLimit.perMinute': 'RATE_LIMIT_WRITES_PER_MINUTE',
  'rateLimit.burst': 'RATE_LIMIT_WRITES_BURST',
  'rateLimit.maxClients': 'RATE_LIMIT_MAX_CLIENTS',
  'securityHeaders.hstsMaxAgeSeconds': 'HTTP_HSTS_MAX_AGE_SECONDS',
  'securityHeaders.contentSecurityPolicy': 'HTTP_CONTENT_SECURITY_POLICY',
} as const;

const OBSERVABILITY = {
  'readiness.timeoutMs': 'READY_TIMEOUT_MS',
  'backlog.refreshMs': 'METRICS_BACKLOG_REFRESH_MS',
  'backlog.readTimeoutMs': 'METRICS_BACKLOG_READ_TIMEOUT_MS',
} as const;

/** Options of each library by the owner and name its `ConfigurationError` gives them, and their variables. */
const VARIABLES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  DatabaseModule: { ...DATABASE_INTS, ...DATABASE_OTHERS },
  MessagingModule: { ...MESSAGING_INTS, ...MESSAGING_OTHERS },
  NotificationsModule: NOTIFICATIONS_INTS,
  createHttpAdapter: HTTP,
  ObservabilityModule: OBSERVABILITY,
};

function intsFromEnv<T extends Record<string, string>>(env: Env, variables: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(variables).map(([option, variable]) => [option, envInt(env, variable)])) as { [K in keyof T]?: number };
}

/**
 * The database options from the variables that are set (`DATABASE_URL`, `DB_POOL_SIZE`,
 * `DATA_DIR` — the embedded server's files go in its `postgres/` — `EMBEDDED_PG_PORT`,
 * `MIGRATE_ON_START` and the `DB_*_TIMEOUT_MS` bounds); the library defaults and checks the rest.
 */
export function databaseOptionsFromEnv(env: Env): DatabaseOptions {
  const dataDir = envString(env, DATABASE_OTHERS.dataDir);
  return {
    ...intsFromEnv(env, DATABASE_INTS),
    url: envString(env, DATABASE_OTHERS.url),
    dataDir: dataDir === undefined ? undefined : path.resolve(dataDir, 'postgres'),
    migrateOnStart: envBool(env, DATABASE_OTHERS.migrateOnStart),
  };
}

/** Messaging's options from the variables that are set (`MESSAGING_SHUTDOWN_TIMEOUT_MS` is the app's: see `appConfigFromEnv`). */
export function messagingOptionsFromEnv(env: Env): MessagingOptions {
  const { shutdownTimeoutMs: _derivedByTheApp, ...ints } = intsFromEnv(env, MESSAGING_INTS);
  return {
    ...ints,
    relayEnabled: envBool(env, MESSAGING_OTHERS.relayEnabled),
    relayListen: envBool(env, MESSAGING_OTHERS.relayListen),
    callCheckInProcess: envBool(env, MESSAGING_OTHERS.callCheckInProcess),
    eventTransport: envChoice(env, MESSAGING_OTHERS.eventTransport, ['inprocess', 'redis'] as const),
    redisUrl: envString(env, MESSAGING_OTHERS.redisUrl),
    redisKeyPrefix: envString(env, MESSAGING_OTHERS.redisKeyPrefix),
    redisConsumerName: envString(env, MESSAGING_OTHERS.redisConsumerName),
  };
}

/** The notifications module's limits from the variables that are set. */
export function notificationsOptionsFromEnv(env: Env): NotificationsOptions {
  return intsFromEnv(env, NOTIFICATIONS_INTS);
}

/** `createHttpAdapter`'s options from the variables that are set. */
export function httpOptionsFromEnv(env: Env): HttpAdapterOptions {
  return {
    bodyLimitBytes: envInt(env, HTTP.bodyLimitBytes),
    requestTimeoutMs: envInt(env, HTTP.requestTimeoutMs),
    headersTimeoutMs: envInt(env, HTTP.headersTimeoutMs),
    trustProxy: trustProxyFromEnv(env),
    rateLimit: { perMinute: envInt(env, HTTP['rateLimit.perMinute']), burst: envInt(env, HTTP['rateLimit.burst']), maxClients: envInt(env, HTTP['rateLimit.maxClients']) },
    securityHeaders: {
      hstsMaxAgeSeconds: envInt(env, HTTP['securityHeaders.hstsMaxAgeSeconds']),
      contentSecurityPolicy: envString(env, HTTP['securityHeaders.contentSecurityPolicy']),
    },
  };
}

/** `HTTP_TRUST_PROXY`: true/false, a hop count, or proxy addresses (the HTTP library checks their form). */
function trustProxyFromEnv(env: Env): boolean | number | string | undefined {
  const value = envString(env, HTTP.trustProxy);
  if (value === 'true' || value === 'false') return value === 'true';
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : value;
}

/** The observability module's readiness and backlog bounds from the variables that are set. */
export function observabilityOptionsFromEnv(env: Env): Required<Pick<ObservabilityOptions, 'readiness' | 'backlog'>> {
  return {
    readiness: { timeoutMs: envInt(env, OBSERVABILITY['readiness.timeoutMs']) },
    backlog: { refreshMs: envInt(env, OBSERVABILITY['backlog.refreshMs']), readTimeoutMs: envInt(env, OBSERVABILITY['backlog.readTimeoutMs']) },
  };
}

/**
 * A library's `ConfigurationError` about an option the app took from a variable, told in the
 * variable's name (`RELAY_BATCH_SIZE: MessagingModule option relayBatchSize must be ...`); any
 * other error unchanged.
 */
export function namingVariable(error: unknown): unknown {
  if (!(error instanceof ConfigurationError)) return error;
  const { owner, option } = error.context;
  const variable = typeof owner === 'string' && typeof option === 'string' ? VARIABLES[owner]?.[option] : undefined;
  if (!variable) return error;
  return new ConfigurationError(`${variable}: ${error.message}`, { ...error.context, variable }, { cause: error });
}

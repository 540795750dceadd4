import { ConfigurationError, envChoice, envInt, envList, envString } from '@modulith/core';
import type { DatabaseOptions } from '@modulith/database';
import type { HttpAdapterOptions } from '@modulith/http';
import type { MessagingOptions } from '@modulith/messaging';
import type { NotificationsOptions } from '@modulith/notifications';
import { opsPeersFromEnv } from './observability/observability.config';
import { databaseOptionsFromEnv, httpOptionsFromEnv, messagingOptionsFromEnv, notificationsOptionsFromEnv, observabilityOptionsFromEnv } from './platform-options';

export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

/**
 * Everything the app reads from its environment, once, at start-up: its own settings and the
 * options it gives each platform library (mapped in platform-options.ts). Options left unset
 * take the library's default.
 */
export interface AppConfig {
  port: number;
  host: string;
  /** Modules to run in this process; all by default; empty (`MODULES=none`) for a process that only calls the others. */
  modules?: string[];
  shutdownTimeoutMs: number;
  /** Bearer token for /admin endpoints; unset turns them off. */
  adminToken?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  database: DatabaseOptions;
  http: HttpAdapterOptions;
  /**
   * Options of `MessagingModule.forRoot`. Its `shutdownTimeoutMs` (the drain budget) is nested
   * inside `shutdownTimeoutMs` with `SHUTDOWN_CLOSE_RESERVE_MS` left over for abandoning stuck
   * work, closing the HTTP server and the pools: unset `MESSAGING_SHUTDOWN_TIMEOUT_MS` is derived
   * so; a value that does not fit is refused.
   */
  messaging: MessagingOptions;
  notifications: NotificationsOptions;
  /** `ObservabilityModule.forRoot`'s readiness and backlog bounds. */
  observability: ReturnType<typeof observabilityOptionsFromEnv>;
  /** Base URLs of the other processes of this deployment, shown in the ops console (`OPS_PEERS`). */
  opsPeers: string[];
}

export function appConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const shutdownTimeoutMs = envInt(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 0);
  return {
    port: envInt(env, 'PORT', 3000, 0, 65535),
    host: envString(env, 'HOST', '0.0.0.0'),
    modules: modulesFromEnv(env),
    shutdownTimeoutMs,
    adminToken: envString(env, 'ADMIN_TOKEN'),
    logLevel: envChoice(env, 'LOG_LEVEL', ['error', 'warn', 'log', 'debug', 'verbose'] as const, 'log'),
    logFormat: envChoice(env, 'LOG_FORMAT', ['json', 'pretty'] as const, process.stdout.isTTY ? 'pretty' : 'json'),
    database: databaseOptionsFromEnv(env),
    http: httpOptionsFromEnv(env),
    messaging: { ...messagingOptionsFromEnv(env), shutdownTimeoutMs: nestedShutdownBudget(env, shutdownTimeoutMs) },
    notifications: notificationsOptionsFromEnv(env),
    observability: observabilityOptionsFromEnv(env),
    opsPeers: opsPeersFromEnv(env),
  };
}

/**
 * `MODULES`: the modules named; unset, all of them; `none`, no business module at all (a process
 * that only reads the others through their public queries, such as the invariant check).
 */
function modulesFromEnv(env: NodeJS.ProcessEnv): string[] | undefined {
  const names = envList(env, 'MODULES');
  // "," (say, a template whose names came out empty) would otherwise host nothing without a word.
  if (names?.length === 0) {
    throw new ConfigurationError(`MODULES names no module: got "${env['MODULES']}"; name modules, "none" for a process that hosts none, or leave it unset for all`, {
      variable: 'MODULES',
    });
  }
  if (!names?.includes('none')) return names;
  if (names.length > 1) {
    throw new ConfigurationError(`MODULES=none names no module, so it cannot go with others: got "${env['MODULES']}"`, { variable: 'MODULES' });
  }
  return [];
}

/**
 * The app's shutdown budget must contain messaging's, or messaging's drain timeout never fires
 * and the process is killed mid-drain with nothing named: messaging gets the app's budget less
 * the reserve for what closes after it (abandoning stuck work, the HTTP server, the pools).
 */
function nestedShutdownBudget(env: NodeJS.ProcessEnv, shutdownTimeoutMs: number): number {
  const reserveMs = envInt(env, 'SHUTDOWN_CLOSE_RESERVE_MS', 5000, 0);
  const available = shutdownTimeoutMs - reserveMs;
  if (available <= 0) {
    throw new ConfigurationError(`SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs}) must be more than SHUTDOWN_CLOSE_RESERVE_MS (${reserveMs})`, {
      variable: 'SHUTDOWN_TIMEOUT_MS',
    });
  }
  if (env['MESSAGING_SHUTDOWN_TIMEOUT_MS'] === undefined || env['MESSAGING_SHUTDOWN_TIMEOUT_MS'] === '') return available;
  const messagingMs = envInt(env, 'MESSAGING_SHUTDOWN_TIMEOUT_MS', available, 0);
  if (messagingMs > available) {
    throw new ConfigurationError(
      `MESSAGING_SHUTDOWN_TIMEOUT_MS (${messagingMs}) must be at most SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs}) minus SHUTDOWN_CLOSE_RESERVE_MS (${reserveMs}): ` +
        `set it to ${available} or less, or unset it to derive it`,
      { variable: 'MESSAGING_SHUTDOWN_TIMEOUT_MS' },
    );
  }
  return messagingMs;
}

import { envChoice, envInt, envList, envString } from '@modulith/core';
import { databaseConfigFromEnv, type DatabaseConfig } from '@modulith/database';
import { httpOptionsFromEnv, type HttpOptions } from '@modulith/http';

export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

/** Everything the app reads from its environment, once, at start-up. */
export interface AppConfig {
  port: number;
  host: string;
  /** Modules to run in this process; all by default. */
  modules?: string[];
  shutdownTimeoutMs: number;
  /** Bearer token for /admin endpoints; unset turns them off. */
  adminToken?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  database: DatabaseConfig;
  http: HttpOptions;
}

export function appConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return {
    port: envInt(env, 'PORT', 3000, 0, 65535),
    host: envString(env, 'HOST', '0.0.0.0'),
    modules: envList(env, 'MODULES'),
    shutdownTimeoutMs: envInt(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 0),
    adminToken: envString(env, 'ADMIN_TOKEN'),
    logLevel: envChoice(env, 'LOG_LEVEL', ['error', 'warn', 'log', 'debug', 'verbose'] as const, 'log'),
    logFormat: envChoice(env, 'LOG_FORMAT', ['json', 'pretty'] as const, process.stdout.isTTY ? 'pretty' : 'json'),
    database: databaseConfigFromEnv(env),
    http: httpOptionsFromEnv(env),
  };
}

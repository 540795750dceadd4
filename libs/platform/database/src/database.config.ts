import * as path from 'node:path';
import { envBool, envInt, envString } from '@modulith/core';
import { DEFAULT_DATABASE_TIMEOUTS } from './pool-options';

const HOUR_MS = 3_600_000;

/** How the app reaches PostgreSQL. Read once from the environment at start-up. */
export interface DatabaseConfig {
  /** An external server; when absent an embedded PostgreSQL is started under `dataDir`. */
  url?: string;
  /** Connections in the one pool every module shares. */
  poolSize: number;
  /** Where the embedded server keeps its files (git-ignored). */
  dataDir: string;
  /** Port of the embedded server, on 127.0.0.1 only. */
  embeddedPort: number;
  /** Apply pending migrations of every loaded module during start-up. */
  migrateOnStart: boolean;
  /** Longest wait for a pooled connection, in ms (`DB_POOL_ACQUIRE_TIMEOUT_MS`, 5000); then the request gets 503. */
  acquireTimeoutMs?: number;
  /** `statement_timeout` of every pooled connection, in ms (`DB_STATEMENT_TIMEOUT_MS`, 30000). */
  statementTimeoutMs?: number;
  /** `lock_timeout` of every pooled connection, in ms (`DB_LOCK_TIMEOUT_MS`, 5000). */
  lockTimeoutMs?: number;
  /** `idle_in_transaction_session_timeout`, in ms (`DB_IDLE_IN_TRANSACTION_TIMEOUT_MS`, 60000). */
  idleInTransactionTimeoutMs?: number;
  /** Client-side wait for any answer to a query, in ms (`DB_QUERY_TIMEOUT_MS`, 0: none). */
  queryTimeoutMs?: number;
}

export function databaseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  return {
    url: envString(env, 'DATABASE_URL'),
    poolSize: envInt(env, 'DB_POOL_SIZE', 10, 1, 1000),
    dataDir: path.resolve(envString(env, 'DATA_DIR', '.data'), 'postgres'),
    embeddedPort: envInt(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535),
    migrateOnStart: envBool(env, 'MIGRATE_ON_START', true),
    acquireTimeoutMs: envInt(env, 'DB_POOL_ACQUIRE_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.acquireTimeoutMs, 0, HOUR_MS),
    statementTimeoutMs: envInt(env, 'DB_STATEMENT_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.statementTimeoutMs, 0, HOUR_MS),
    lockTimeoutMs: envInt(env, 'DB_LOCK_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.lockTimeoutMs, 0, HOUR_MS),
    idleInTransactionTimeoutMs: envInt(env, 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.idleInTransactionTimeoutMs, 0, HOUR_MS),
    queryTimeoutMs: envInt(env, 'DB_QUERY_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.queryTimeoutMs, 0, HOUR_MS),
  };
}

import * as path from 'node:path';
import { envBool, envInt, envString } from '@modulith/core';
import { DEFAULT_DATABASE_OPTIONS, type DatabaseOptions } from '@modulith/database';

const HOUR_MS = 3_600_000;

/**
 * The database options from the environment (see the README's table): `DATABASE_URL`,
 * `DB_POOL_SIZE`, `DATA_DIR`, `EMBEDDED_PG_PORT`, `MIGRATE_ON_START` and the `DB_*_TIMEOUT_MS`
 * bounds; each unset one gets the library's default.
 *
 * @throws ConfigurationError naming the variable, for a malformed or out-of-range value.
 */
export function databaseOptionsFromEnv(env: NodeJS.ProcessEnv): DatabaseOptions {
  const defaults = DEFAULT_DATABASE_OPTIONS;
  return {
    url: envString(env, 'DATABASE_URL'),
    poolSize: envInt(env, 'DB_POOL_SIZE', defaults.poolSize, 1, 1000),
    dataDir: path.resolve(envString(env, 'DATA_DIR', '.data'), 'postgres'),
    embeddedPort: envInt(env, 'EMBEDDED_PG_PORT', defaults.embeddedPort, 1, 65535),
    migrateOnStart: envBool(env, 'MIGRATE_ON_START', defaults.migrateOnStart),
    acquireTimeoutMs: envInt(env, 'DB_POOL_ACQUIRE_TIMEOUT_MS', defaults.acquireTimeoutMs, 0, HOUR_MS),
    statementTimeoutMs: envInt(env, 'DB_STATEMENT_TIMEOUT_MS', defaults.statementTimeoutMs, 0, HOUR_MS),
    lockTimeoutMs: envInt(env, 'DB_LOCK_TIMEOUT_MS', defaults.lockTimeoutMs, 0, HOUR_MS),
    idleInTransactionTimeoutMs: envInt(env, 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', defaults.idleInTransactionTimeoutMs, 0, HOUR_MS),
    queryTimeoutMs: envInt(env, 'DB_QUERY_TIMEOUT_MS', defaults.queryTimeoutMs, 0, HOUR_MS),
  };
}

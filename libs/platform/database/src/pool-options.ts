import type { Client } from 'pg';
import { guardedClientClass, type ConnectionLostListener } from './guarded-client';

/** Every bound on a wait in the shared pool, in milliseconds; 0 means no bound. */
export interface DatabaseTimeouts {
  /** Longest wait for a pooled connection, or to open a new one (pg `connectionTimeoutMillis`). */
  acquireTimeoutMs: number;
  /** Longest one statement may run on the server (`statement_timeout`, SQLSTATE 57014). */
  statementTimeoutMs: number;
  /** Longest a statement waits for a row or table lock (`lock_timeout`, SQLSTATE 55P03). */
  lockTimeoutMs: number;
  /** Longest a transaction may sit idle before the server ends its session (SQLSTATE 25P03). */
  idleInTransactionTimeoutMs: number;
  /** Longest the client waits for any answer to a query (pg `query_timeout`); 0: no limit. */
  queryTimeoutMs: number;
}

/** The defaults of `DB_POOL_ACQUIRE_TIMEOUT_MS`, `DB_STATEMENT_TIMEOUT_MS`, `DB_LOCK_TIMEOUT_MS`, ... */
export const DEFAULT_DATABASE_TIMEOUTS: Readonly<DatabaseTimeouts> = Object.freeze({
  acquireTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 5000,
  idleInTransactionTimeoutMs: 60_000,
  queryTimeoutMs: 0,
});

/** The bounds `config` asks for, each defaulted. */
export function resolveDatabaseTimeouts(config: Partial<DatabaseTimeouts>): DatabaseTimeouts {
  return {
    acquireTimeoutMs: config.acquireTimeoutMs ?? DEFAULT_DATABASE_TIMEOUTS.acquireTimeoutMs,
    statementTimeoutMs: config.statementTimeoutMs ?? DEFAULT_DATABASE_TIMEOUTS.statementTimeoutMs,
    lockTimeoutMs: config.lockTimeoutMs ?? DEFAULT_DATABASE_TIMEOUTS.lockTimeoutMs,
    idleInTransactionTimeoutMs: config.idleInTransactionTimeoutMs ?? DEFAULT_DATABASE_TIMEOUTS.idleInTransactionTimeoutMs,
    queryTimeoutMs: config.queryTimeoutMs ?? DEFAULT_DATABASE_TIMEOUTS.queryTimeoutMs,
  };
}

/** What pg-pool is given (TypeORM's `extra`); another pool built from it inherits every guard. */
export interface PoolOptions {
  max: number;
  connectionTimeoutMillis: number;
  statement_timeout: number;
  lock_timeout: number;
  idle_in_transaction_session_timeout: number;
  query_timeout?: number;
  keepAlive: boolean;
  keepAliveInitialDelayMillis: number;
  Client: typeof Client;
}

/**
 * The pool's settings: its size, the acquire bound, the server-side bounds as start-up
 * parameters of every connection (so a transaction can still lift one with `SET LOCAL`), TCP
 * keep-alive so a vanished peer is noticed, and a client class that never crashes the process.
 */
export function poolOptions(config: { poolSize: number } & Partial<DatabaseTimeouts>, onLost: ConnectionLostListener): PoolOptions {
  const timeouts = resolveDatabaseTimeouts(config);
  return {
    max: config.poolSize,
    connectionTimeoutMillis: timeouts.acquireTimeoutMs,
    statement_timeout: timeouts.statementTimeoutMs,
    lock_timeout: timeouts.lockTimeoutMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs,
    ...(timeouts.queryTimeoutMs > 0 ? { query_timeout: timeouts.queryTimeoutMs } : {}),
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    Client: guardedClientClass(onLost),
  };
}

/**
 * The bounds a pool was given, read back from its pg settings (TypeORM's `extra`); what a pool
 * built by someone else (a host application's `DataSource`) leaves unset is 0: no bound.
 */
export function timeoutsOfPool(extra: Partial<PoolOptions> | undefined): DatabaseTimeouts {
  return {
    acquireTimeoutMs: extra?.connectionTimeoutMillis ?? 0,
    statementTimeoutMs: extra?.statement_timeout ?? 0,
    lockTimeoutMs: extra?.lock_timeout ?? 0,
    idleInTransactionTimeoutMs: extra?.idle_in_transaction_session_timeout ?? 0,
    queryTimeoutMs: extra?.query_timeout ?? 0,
  };
}

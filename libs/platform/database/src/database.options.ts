import * as path from 'node:path';
import type { ModuleMetadata } from '@nestjs/common';
import { optionError } from '@modulith/core';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from './pool-options';

/**
 * How the platform reaches PostgreSQL when it builds the one `DataSource` itself
 * (`DatabaseModule.forRoot(options)` / `forRootAsync`). Every field is optional; the defaults
 * are those of {@link DEFAULT_DATABASE_OPTIONS}. Explicit values are used as given (the library
 * never reads the environment; the app maps its variables to these options).
 */
export interface DatabaseOptions extends Partial<DatabaseTimeouts> {
  /** An external server, `postgres://user:password@host:port/database`; when absent an embedded PostgreSQL is started under `dataDir`. */
  url?: string;
  /** Connections in the one pool every module shares (default 10). */
  poolSize?: number;
  /** Where the embedded server keeps its files (default `.data/postgres` under the working directory). */
  dataDir?: string;
  /** Port of the embedded server, on 127.0.0.1 only (default 54329). */
  embeddedPort?: number;
  /** Apply pending migrations of every loaded module during start-up (default true). */
  migrateOnStart?: boolean;
}

/**
 * For a host application that already created its default `DataSource` with
 * `TypeOrmModule.forRoot(...)`: the platform uses that one (per-module schemas, migrations,
 * transactions, messaging) and never builds, nor closes, its own. The host's `DataSource` must
 * load the modules' entities (`autoLoadEntities: true`, or list them).
 */
export interface ExistingDataSourceOptions {
  useExistingDataSource: true;
  /** Apply pending migrations of every loaded module during start-up (default true). */
  migrateOnStart?: boolean;
}

/**
 * `DatabaseModule.forRootAsync`: options computed by a factory with injected dependencies, like any
 * Nest `forRootAsync`. With `useExistingDataSource: true` (given here, not by the factory, because
 * it decides which modules are wired) the factory gives only `migrateOnStart`, and the platform uses
 * the host's `TypeOrmModule` DataSource as with `forRoot({ useExistingDataSource: true })`.
 */
export interface DatabaseAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useExistingDataSource?: false;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory: (...args: any[]) => DatabaseOptions | Promise<DatabaseOptions>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inject?: any[];
}

/** `DatabaseModule.forRootAsync` on the host's DataSource: see {@link DatabaseAsyncOptions}. */
export interface ExistingDataSourceAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useExistingDataSource: true;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory: (...args: any[]) => Omit<ExistingDataSourceOptions, 'useExistingDataSource'> | Promise<Omit<ExistingDataSourceOptions, 'useExistingDataSource'>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inject?: any[];
}

/** Options with every default applied. */
export type ResolvedDatabaseOptions = Required<Omit<DatabaseOptions, 'url'>> & Pick<DatabaseOptions, 'url'>;

export const DEFAULT_DATABASE_OPTIONS: Readonly<Omit<ResolvedDatabaseOptions, 'url' | 'dataDir'>> = Object.freeze({
  poolSize: 10,
  embeddedPort: 54329,
  migrateOnStart: true,
  ...DEFAULT_DATABASE_TIMEOUTS,
});

const HOUR_MS = 3_600_000;

/**
 * Applies the defaults and checks each given value's range.
 *
 * @throws ConfigurationError naming the option (`{ owner: 'DatabaseModule', option }`) when a value is out of range.
 */
export function resolveDatabaseOptions(options: DatabaseOptions): ResolvedDatabaseOptions {
  const resolved: ResolvedDatabaseOptions = {
    ...DEFAULT_DATABASE_OPTIONS,
    dataDir: path.resolve('.data', 'postgres'),
    ...definedOnly(options),
  };
  checkInteger(resolved, 'poolSize', 1, 1000);
  // The embedded server's settings matter only when it is started.
  if (resolved.url === undefined) {
    checkInteger(resolved, 'embeddedPort', 1, 65535);
    resolved.dataDir = path.resolve(resolved.dataDir);
  }
  for (const name of ['acquireTimeoutMs', 'statementTimeoutMs', 'lockTimeoutMs', 'idleInTransactionTimeoutMs', 'queryTimeoutMs'] as const) {
    checkInteger(resolved, name, 0, HOUR_MS);
  }
  return resolved;
}

export function isExistingDataSource(options: DatabaseOptions | ExistingDataSourceOptions): options is ExistingDataSourceOptions {
  return (options as ExistingDataSourceOptions).useExistingDataSource === true;
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function checkInteger(options: ResolvedDatabaseOptions, name: keyof ResolvedDatabaseOptions, min: number, max: number): void {
  const value = options[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw optionError('DatabaseModule', name, `must be an integer between ${min} and ${max}, got ${String(value)}`);
  }
}

/** @deprecated The former name of {@link DatabaseOptions}. */
export type DatabaseConfig = DatabaseOptions;

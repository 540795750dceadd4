/**
 * @modulith/database — the one PostgreSQL `DataSource` (on @nestjs/typeorm; the embedded server
 * by default, or the host application's own), per-module schemas and migrations, and transactions.
 */
export { DatabaseModule } from './database.module';
export { Database } from './database';
export { withTransactionHook } from './transaction-hook';
export type { TransactionHook } from './transaction-hook';
export { DEFAULT_DATABASE_OPTIONS, resolveDatabaseOptions } from './database.options';
export type {
  DatabaseOptions,
  ResolvedDatabaseOptions,
  ExistingDataSourceOptions,
  DatabaseAsyncOptions,
  ExistingDataSourceAsyncOptions,
  DatabaseConfig,
} from './database.options';
export { DEFAULT_DATABASE_TIMEOUTS, resolveDatabaseTimeouts } from './pool-options';
export type { DatabaseTimeouts } from './pool-options';
export { guardedClientClass } from './guarded-client';
export type { ConnectionLostListener } from './guarded-client';
export { defineModule, SchemaMigrationContributor } from './module-schema';
export type { ModuleDefinition, ModuleWithSchema, ModuleWithoutSchema, ModuleSchema, MigrationClass, EntityClass } from './module-schema';
export { runMigrations, appliedMigrations, migrationName, MigrationFailedError, MIGRATIONS_TABLE } from './migration-runner';
export type { MigrationReport } from './migration-runner';
export { EmbeddedPostgresServer } from './embedded-postgres.server';
export { EmbeddedPostgresError, EmbeddedPostgresPortConflictError } from './embedded-postgres.errors';

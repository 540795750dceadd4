import type { DataSource, QueryRunner } from 'typeorm';
import { ModulithError } from '@modulith/core';
import type { MigrationClass, ModuleSchema } from './module-schema';

export class MigrationFailedError extends ModulithError {
  readonly code = 'MIGRATION_FAILED';
}

export interface MigrationReport {
  module: string;
  applied: string[];
}

/** The history table each module keeps inside its own schema. */
export const MIGRATIONS_TABLE = 'schema_migrations';

// One advisory lock key for all migrations: app instances starting together take turns.
const MIGRATION_LOCK_KEY = 7_243_195_001;

/**
 * Applies each module's pending migrations, each migration in its own transaction together
 * with its history row, so a crash never leaves a migration half-recorded.
 */
export async function runMigrations(
  dataSource: DataSource,
  schemas: readonly ModuleSchema[],
  log: (message: string) => void = () => undefined,
): Promise<MigrationReport[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    // The pool's request bounds (DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS) are not for
    // migrations: a table rewrite may take minutes, and another replica waits here for ours.
    await runner.query('SET statement_timeout = 0; SET lock_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const reports: MigrationReport[] = [];
    for (const schema of schemas) {
      reports.push({ module: schema.module, applied: await migrateModule(runner, schema, log) });
    }
    return reports;
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.query('RESET statement_timeout; RESET lock_timeout').catch(() => undefined);
    await runner.release();
  }
}

/** A migration's name as its module's history records it: its `name`, else its class name. */
export function migrationName(Migration: MigrationClass): string {
  return new Migration().name ?? Migration.name;
}

/** Names of migrations applied for a module, in order. */
export async function appliedMigrations(dataSource: DataSource, schema: string): Promise<string[]> {
  const rows: { name: string }[] = await dataSource.query(
    `SELECT name FROM "${schema}".${MIGRATIONS_TABLE} ORDER BY applied_at, name`,
  );
  return rows.map((row) => row.name);
}

async function migrateModule(runner: QueryRunner, module: ModuleSchema, log: (message: string) => void): Promise<string[]> {
  const schema = module.schema;
  await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await runner.query(
    `CREATE TABLE IF NOT EXISTS "${schema}".${MIGRATIONS_TABLE} (
       name text PRIMARY KEY,
       applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  );
  const done = new Set<string>(
    (await runner.query(`SELECT name FROM "${schema}".${MIGRATIONS_TABLE}`)).map((row: { name: string }) => row.name),
  );
  const applied: string[] = [];
  for (const MigrationClass of module.migrations) {
    const migration = new MigrationClass();
    const name = migrationName(MigrationClass);
    if (done.has(name)) continue;
    await runner.startTransaction();
    try {
      await runner.query(`SET LOCAL search_path TO "${schema}"`);
      await migration.up(runner);
      await runner.query(`INSERT INTO "${schema}".${MIGRATIONS_TABLE} (name) VALUES ($1)`, [name]);
      await runner.commitTransaction();
    } catch (error) {
      await runner.rollbackTransaction();
      throw new MigrationFailedError(`migration ${module.module}/${name} failed: ${(error as Error).message}`, {
        module: module.module,
        migration: name,
      }, { cause: error });
    }
    log(`applied migration ${module.module}/${name}`);
    applied.push(name);
  }
  return applied;
}

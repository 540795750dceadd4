import type { MigrationInterface } from 'typeorm';
import { ConfigurationError } from '@modulith/core';

/** A migration class; `name` must be unique within its module and sort in the order to apply. */
export type MigrationClass = new () => MigrationInterface;

// TypeORM accepts entity classes and entity schemas; a module only ever passes classes.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityClass = Function;

/** A module that owns one PostgreSQL schema: its tables, entities and migration history live there. */
export interface ModuleWithSchema {
  /** The module's name, as in `MODULES`; recorded as the source of what it publishes. */
  name: string;
  /** The PostgreSQL schema the module owns (a lower-case SQL identifier); nothing else writes to it. */
  schema: string;
  /** Entity classes mapped into the schema; registered with `TypeOrmModule.forFeature`. */
  entities?: EntityClass[];
  /** Migrations that build the schema, in the order to apply (see `MigrationClass`). */
  migrations?: MigrationClass[];
}

/** A module that owns no table (its state, if any, lives elsewhere): `schema: false`, said once. */
export interface ModuleWithoutSchema {
  name: string;
  schema: false;
}

/** What a module is, declared once with {@link defineModule} and registered with one call. */
export type ModuleDefinition = ModuleWithSchema | ModuleWithoutSchema;

/**
 * What a module owns in the database, as `Database` keeps it: one schema, the entities mapped
 * into it and the migrations that build it. Each module's migration history is kept in its own schema.
 */
export interface ModuleSchema {
  /** The module's name, as in `MODULES`. */
  module: string;
  /** The PostgreSQL schema the module owns; nothing else writes to it. */
  schema: string;
  entities: EntityClass[];
  migrations: MigrationClass[];
}

const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Declares a module once: `defineModule({ name, schema, entities, migrations })`, or
 * `defineModule({ name, schema: false })` for one that owns no table. Returns it frozen.
 *
 * @throws ConfigurationError (`{ module }`) when the name is blank, the schema is not a
 *   lower-case SQL identifier, or a module without a schema lists entities or migrations.
 */
export function defineModule<T extends ModuleDefinition>(definition: T): Readonly<T> {
  if (typeof definition.name !== 'string' || definition.name.trim() === '') {
    throw new ConfigurationError('defineModule: name must be a non-blank string', { module: String(definition.name) });
  }
  if (definition.schema === false) {
    if ('entities' in definition || 'migrations' in definition) {
      throw new ConfigurationError(`module ${definition.name} has no schema (schema: false), so it cannot have entities or migrations`, { module: definition.name });
    }
  } else {
    assertSchemaName(definition.schema, definition.name);
  }
  return Object.freeze({ ...definition }) as Readonly<T>;
}

/** The schema part of a module with one. */
export function moduleSchemaOf(definition: ModuleWithSchema): ModuleSchema {
  assertSchemaName(definition.schema, definition.name);
  return Object.freeze({ module: definition.name, schema: definition.schema, entities: definition.entities ?? [], migrations: definition.migrations ?? [] });
}

function assertSchemaName(schema: unknown, module: string): void {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) {
    throw new ConfigurationError(`schema name "${String(schema)}" must be a lower-case SQL identifier`, { module });
  }
}

/** Marks a module's schema among Nest's providers so the database can discover it. */
export class ModuleSchemaRegistration {
  constructor(readonly definition: ModuleSchema) {}
}

/**
 * Adds migrations to the schemas of the modules loaded in this process, decided at start-up from
 * what discovery found (before migrations run, after every provider exists). The messaging
 * platform uses it to add the inbox of each module with durable subscribers. Provide a subclass
 * as a Nest provider; `Database` finds it.
 */
export abstract class SchemaMigrationContributor {
  /** Migrations `schema` needs besides its own, applied before its own; none by default. */
  abstract migrationsFor(schema: ModuleSchema): MigrationClass[];
}

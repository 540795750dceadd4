import type { MigrationInterface } from 'typeorm';
import { ConfigurationError } from '@modulith/core';

/** A migration class; `name` must be unique within its module and sort in the order to apply. */
export type MigrationClass = new () => MigrationInterface;

// TypeORM accepts entity classes and entity schemas; a module only ever passes classes.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityClass = Function;

/**
 * What a module owns in the database: one PostgreSQL schema, the entities mapped into it and
 * the migrations that build it. Each module's migration history is kept in its own schema.
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

export function defineModuleSchema(definition: ModuleSchema): ModuleSchema {
  if (!IDENTIFIER.test(definition.schema)) {
    throw new ConfigurationError(`schema name "${definition.schema}" must be a lower-case SQL identifier`, {
      module: definition.module,
    });
  }
  return Object.freeze({ ...definition });
}

/** Marks a module's schema among Nest's providers so the database can discover it. */
export class ModuleSchemaRegistration {
  constructor(readonly definition: ModuleSchema) {}
}

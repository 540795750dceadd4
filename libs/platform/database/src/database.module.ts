import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Database, DATABASE_CONFIG } from './database';
import { databaseConfigFromEnv, type DatabaseConfig } from './database.config';
import { ModuleSchemaRegistration, type ModuleSchema } from './module-schema';

@Global()
@Module({})
export class DatabaseModule {
  /** The shared pool, once, in the composition root. Config defaults to the environment. */
  static forRoot(config: DatabaseConfig = databaseConfigFromEnv()): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [DiscoveryModule],
      providers: [{ provide: DATABASE_CONFIG, useValue: config }, Database],
      exports: [Database],
    };
  }

  /** Declares the schema, entities and migrations a module owns. */
  static forModule(schema: ModuleSchema): DynamicModule {
    return {
      module: ModuleDatabaseModule,
      providers: [{ provide: `ModuleSchema:${schema.schema}`, useValue: new ModuleSchemaRegistration(schema) }],
    };
  }
}

/** Holder for one module's schema registration; separate so forModule can be imported many times. */
@Module({})
class ModuleDatabaseModule {}

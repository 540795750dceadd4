import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Database, DATABASE_SETTINGS, type DatabaseSettings } from './database';
import {
  isExistingDataSource,
  resolveDatabaseOptions,
  type DatabaseAsyncOptions,
  type DatabaseOptions,
  type ExistingDataSourceAsyncOptions,
  type ExistingDataSourceOptions,
  type ResolvedDatabaseOptions,
} from './database.options';
import { moduleSchemaOf, ModuleSchemaRegistration, type ModuleWithSchema } from './module-schema';
import { DATABASE_OPTIONS, EmbeddedDatabase, ownDataSourceOptions } from './own-data-source';

/**
 * The database platform. Import `forRoot` (or `forRootAsync`) once in the composition root, and
 * `forModule` once per module that owns a schema. The one `DataSource` is `@nestjs/typeorm`'s
 * default one, so `@InjectDataSource()`, `@InjectEntityManager()` and `@InjectRepository(Entity)`
 * work as in any Nest app.
 */
@Global()
@Module({})
export class DatabaseModule {
  /**
   * With `DatabaseOptions` (all optional; see their defaults): builds the one `DataSource` through
   * `TypeOrmModule.forRootAsync`, starting the embedded server when no `url` is given. With
   * `{ useExistingDataSource: true }`: uses the default `DataSource` the host application made
   * with `TypeOrmModule.forRoot(...)`, and leaves closing it to the host.
   *
   * @throws ConfigurationError (at start-up) naming the option, for a value out of range.
   */
  static forRoot(options: DatabaseOptions | ExistingDataSourceOptions = {}): DynamicModule {
    if (!isExistingDataSource(options)) return DatabaseModule.forRootAsync({ useFactory: () => options });
    return DatabaseModule.forRootAsync({ useExistingDataSource: true, useFactory: () => options });
  }

  /**
   * Like `forRoot(options)`, with the options made by `useFactory` from `inject`ed providers of
   * `imports`. On the host's DataSource: `forRootAsync({ useExistingDataSource: true, useFactory:
   * (...) => ({ migrateOnStart }) })`.
   */
  static forRootAsync(async: DatabaseAsyncOptions | ExistingDataSourceAsyncOptions): DynamicModule {
    if (async.useExistingDataSource === true) return existingDataSourceModule(async);
    // One holder of the options and the embedded server, shared by the DataSource's factory and `Database`.
    const options: DynamicModule = {
      module: DatabaseOptionsModule,
      imports: async.imports ?? [],
      providers: [
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        { provide: DATABASE_OPTIONS, useFactory: async (...args: any[]) => resolveDatabaseOptions(await async.useFactory(...args)), inject: async.inject ?? [] },
        EmbeddedDatabase,
      ],
      exports: [DATABASE_OPTIONS, EmbeddedDatabase],
    };
    return {
      module: DatabaseModule,
      imports: [
        DiscoveryModule,
        options,
        TypeOrmModule.forRootAsync({ imports: [options], inject: [DATABASE_OPTIONS, EmbeddedDatabase], useFactory: ownDataSourceOptions }),
      ],
      providers: [
        {
          provide: DATABASE_SETTINGS,
          useFactory: (resolved: ResolvedDatabaseOptions): DatabaseSettings => ({ migrateOnStart: resolved.migrateOnStart, owned: true }),
          inject: [DATABASE_OPTIONS],
        },
        Database,
      ],
      exports: [Database],
    };
  }

  /**
   * Registers the schema, entities (`TypeOrmModule.forFeature`, so the module can
   * `@InjectRepository` them) and migrations of a module (see `defineModule`). A module that
   * also publishes or subscribes registers with `MessagingModule.forModule` instead, which
   * includes this.
   */
  static forModule(definition: ModuleWithSchema): DynamicModule {
    const schema = moduleSchemaOf(definition);
    return {
      module: ModuleDatabaseModule,
      imports: [TypeOrmModule.forFeature(schema.entities)],
      providers: [{ provide: `ModuleSchema:${schema.schema}`, useValue: new ModuleSchemaRegistration(schema) }],
      exports: [TypeOrmModule],
    };
  }
}

/** The platform on the DataSource the host made with `TypeOrmModule`: nothing built, nothing closed. */
function existingDataSourceModule(async: ExistingDataSourceAsyncOptions): DynamicModule {
  return {
    module: DatabaseModule,
    imports: [DiscoveryModule, ...(async.imports ?? [])],
    providers: [
      {
        provide: DATABASE_SETTINGS,
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        useFactory: async (...args: any[]): Promise<DatabaseSettings> => ({ migrateOnStart: (await async.useFactory(...args)).migrateOnStart ?? true, owned: false }),
        inject: async.inject ?? [],
      },
      Database,
    ],
    exports: [Database],
  };
}

/** Holder of the options and embedded server of `forRootAsync`. */
@Module({})
class DatabaseOptionsModule {}

/** Holder for one module's schema registration; separate so forModule can be imported many times. */
@Module({})
class ModuleDatabaseModule {}

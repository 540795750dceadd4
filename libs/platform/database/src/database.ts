import type { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ConfigurationError } from '@modulith/core';
import { migrationName, runMigrations, type MigrationReport } from './migration-runner';
import { ModuleSchemaRegistration, SchemaMigrationContributor, type ModuleSchema } from './module-schema';
import { EmbeddedDatabase } from './own-data-source';
import { timeoutsOfPool, type DatabaseTimeouts, type PoolOptions } from './pool-options';
import { takeTransactionHook } from './transaction-hook';

/** pg's Pool, as far as guarding its clients needs: its 'connect' event and the clients it holds. */
interface HostPool {
  on(event: 'connect', listener: (client: EventEmitter) => void): unknown;
  _clients?: EventEmitter[];
}

const GUARDED = new WeakSet<EventEmitter>();

export const DATABASE_SETTINGS = Symbol('DATABASE_SETTINGS');

/** What `Database` needs to know of how `DatabaseModule` was set up. */
export interface DatabaseSettings {
  migrateOnStart: boolean;
  /** The platform built the `DataSource` (and maybe started the embedded server), so it closes them. */
  owned: boolean;
}

/**
 * Per-module schemas and migrations and the transaction helper, on the one default `DataSource`
 * of `@nestjs/typeorm` (built by `DatabaseModule.forRoot`, or the host application's own). On
 * start it applies the migrations of the modules loaded in this process. When the platform
 * built the `DataSource`, it closes it, then the embedded server, last, after every other module
 * has drained (it is global, so Nest shuts it down after the modules that import it).
 */
@Injectable()
export class Database implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private moduleSchemas: ModuleSchema[] = [];
  private reports: MigrationReport[] = [];

  constructor(
    @Inject(DATABASE_SETTINGS) private readonly settings: DatabaseSettings,
    @InjectDataSource() private readonly source: DataSource,
    private readonly discovery: DiscoveryService,
    @Optional() private readonly embedded?: EmbeddedDatabase,
  ) {}

  get dataSource(): DataSource {
    if (!this.source.isInitialized) throw new Error('the database is not initialised yet');
    return this.source;
  }

  /** What the last migration run applied, per module. */
  get migrationReports(): readonly MigrationReport[] {
    return this.reports;
  }

  /**
   * The bounds every pooled connection starts with (0: none, as a host's own `DataSource` may
   * have). A transaction that needs tighter (or looser) ones sets its own with `SET LOCAL`;
   * another pool built from `dataSource.options.extra` inherits these and overrides what it must.
   */
  get timeouts(): DatabaseTimeouts {
    return timeoutsOfPool((this.dataSource.options as { extra?: Partial<PoolOptions> }).extra);
  }

  /** Schemas of the modules loaded in this process. */
  get schemas(): readonly ModuleSchema[] {
    return this.moduleSchemas;
  }

  async onModuleInit(): Promise<void> {
    this.moduleSchemas = this.discoverSchemas();
    const modules = this.moduleSchemas.map((schema) => schema.module).join(', ') || 'none';
    const pool = (this.dataSource.options as { extra?: { max?: number } }).extra?.max;
    const source = this.settings.owned ? `connected (pool of ${pool})` : "using the application's DataSource";
    this.logger.log(`${source}, modules: ${modules}`);
    this.requireEntitiesLoaded();
    if (!this.settings.owned) this.guardHostPool();
    if (this.settings.migrateOnStart) await this.migrate();
  }

  /**
   * A host's pool is built by its own TypeORM options, without our guarded client. pg-pool listens
   * for a client's 'error' only while it is idle, TypeORM only while a query runner holds it; an
   * 'error' outside those windows (a second one after TypeORM released the client with the first,
   * say) has no listener, and Node ends the process. Each client of the pool, present and future,
   * gets a listener for its whole life that logs the loss; queries on it still fail and roll back.
   */
  private guardHostPool(): void {
    const pool = (this.dataSource.driver as { master?: HostPool }).master;
    if (!pool || typeof pool.on !== 'function') return;
    const guard = (client: EventEmitter): void => {
      if (GUARDED.has(client)) return;
      GUARDED.add(client);
      client.on('error', (error: Error) => this.logger.warn(`database connection lost (${error.message}); the pool opens a new one when needed`));
    };
    pool.on('connect', guard);
    for (const client of pool._clients ?? []) guard(client);
  }

  async migrate(): Promise<MigrationReport[]> {
    this.reports = await runMigrations(this.dataSource, this.moduleSchemas, (message) => this.logger.log(message));
    return this.reports;
  }

  /**
   * Runs `work` in one transaction: everything it writes commits together or not at all. The
   * first transaction inside a `withTransactionHook` scope also runs that hook (a remote
   * command's idempotency receipt), in the same transaction.
   */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const hook = takeTransactionHook();
    if (!hook) return this.dataSource.transaction(work);
    return this.dataSource.transaction(async (manager) => {
      await hook.enter(manager);
      const result = await work(manager);
      await hook.leave?.(manager, result);
      return result;
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.settings.owned) return; // the host application closes its own DataSource
    // Before the server stops, whichever of this and @nestjs/typeorm's own hook runs first.
    if (this.source.isInitialized) await this.source.destroy();
    await this.embedded?.stop();
  }

  /**
   * A host's `DataSource` made without `autoLoadEntities` knows no module entity, and TypeORM would
   * say so only at the first query ("No metadata for ..."): refuse to start instead.
   *
   * @throws ConfigurationError naming the module and the entity.
   */
  private requireEntitiesLoaded(): void {
    for (const schema of this.moduleSchemas) {
      const missing = schema.entities.find((entity) => !this.dataSource.hasMetadata(entity));
      if (missing) {
        throw new ConfigurationError(
          `module ${schema.module}: entity ${missing.name} is not loaded by the DataSource; give TypeOrmModule.forRoot autoLoadEntities: true (or list the entity in its entities)`,
          { module: schema.module, entity: missing.name },
        );
      }
    }
  }

  /** The schemas registered with `forModule`, each with the migrations contributors add before its own. */
  private discoverSchemas(): ModuleSchema[] {
    const instances = this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown);
    const contributors = instances.filter((instance): instance is SchemaMigrationContributor => instance instanceof SchemaMigrationContributor);
    const found = instances
      .filter((instance): instance is ModuleSchemaRegistration => instance instanceof ModuleSchemaRegistration)
      .map((registration) => registration.definition);
    return [...new Map(found.map((schema) => [schema.schema, schema])).values()].map((schema) => {
      const added = contributors.flatMap((contributor) => contributor.migrationsFor(schema));
      if (added.length === 0) return schema;
      // A module that still lists a contributed migration itself keeps one copy, under one name.
      const seen = new Set<string>();
      const migrations = [...added, ...schema.migrations].filter((Migration) => {
        const name = migrationName(Migration);
        if (seen.has(name)) return false;
        seen.add(name);
        return true;
      });
      return { ...schema, migrations };
    });
  }
}

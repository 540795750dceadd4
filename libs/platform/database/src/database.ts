import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { DataSource, type EntityManager } from 'typeorm';
import type { DatabaseConfig } from './database.config';
import { EmbeddedPostgresServer } from './embedded-postgres.server';
import { runMigrations, type MigrationReport } from './migration-runner';
import { ModuleSchemaRegistration, type ModuleSchema } from './module-schema';
import { poolOptions, resolveDatabaseTimeouts, type DatabaseTimeouts } from './pool-options';
import { takeTransactionHook } from './transaction-hook';

export const DATABASE_CONFIG = Symbol('DATABASE_CONFIG');

/**
 * The one connection pool every module shares. On start it brings up the embedded server when
 * no `DATABASE_URL` is given, builds the `DataSource` from the entities of the modules loaded
 * in this process, and applies their migrations. It closes last, after every other module has
 * drained (it is global, so Nest shuts it down after the modules that import it).
 */
@Injectable()
export class Database implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private server?: EmbeddedPostgresServer;
  private source?: DataSource;
  private moduleSchemas: ModuleSchema[] = [];
  private reports: MigrationReport[] = [];

  constructor(
    @Inject(DATABASE_CONFIG) private readonly config: DatabaseConfig,
    private readonly discovery: DiscoveryService,
  ) {}

  get dataSource(): DataSource {
    if (!this.source?.isInitialized) throw new Error('the database is not initialised yet');
    return this.source;
  }

  /** What the last migration run applied, per module. */
  get migrationReports(): readonly MigrationReport[] {
    return this.reports;
  }

  /**
   * The bounds every pooled connection starts with. A transaction that needs tighter (or
   * looser) ones sets its own with `SET LOCAL`; another pool built from `dataSource.options.extra`
   * inherits these and overrides what it must.
   */
  get timeouts(): DatabaseTimeouts {
    return resolveDatabaseTimeouts(this.config);
  }

  /** Schemas of the modules loaded in this process. */
  get schemas(): readonly ModuleSchema[] {
    return this.moduleSchemas;
  }

  async onModuleInit(): Promise<void> {
    this.moduleSchemas = this.discoverSchemas();
    const url = this.config.url ?? (await this.startEmbeddedServer());
    this.source = new DataSource({
      type: 'postgres',
      url,
      entities: this.moduleSchemas.flatMap((schema) => schema.entities),
      extra: poolOptions(this.config, (error) => this.logger.warn(`database connection lost (${error.message}); the pool opens a new one when needed`)),
      // Each lost connection is already reported once, by its own client (see guarded-client.ts).
      poolErrorHandler: () => undefined,
      applicationName: 'modulith',
      synchronize: false,
      migrationsRun: false,
    });
    await this.source.initialize();
    this.logger.log(`connected (pool of ${this.config.poolSize}, modules: ${this.moduleSchemas.map((s) => s.module).join(', ') || 'none'})`);
    if (this.config.migrateOnStart) await this.migrate();
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
    if (this.source?.isInitialized) await this.source.destroy();
    await this.server?.stop();
  }

  private async startEmbeddedServer(): Promise<string> {
    this.server = new EmbeddedPostgresServer({
      dataDir: this.config.dataDir,
      port: this.config.embeddedPort,
      log: (message) => this.logger.log(message),
    });
    return this.server.start();
  }

  private discoverSchemas(): ModuleSchema[] {
    const found = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance)
      .filter((instance): instance is ModuleSchemaRegistration => instance instanceof ModuleSchemaRegistration)
      .map((registration) => registration.definition);
    return [...new Map(found.map((schema) => [schema.schema, schema])).values()];
  }
}

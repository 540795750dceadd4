import { Injectable, Logger } from '@nestjs/common';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { ResolvedDatabaseOptions } from './database.options';
import { EmbeddedPostgresServer } from './embedded-postgres.server';
import { poolOptions } from './pool-options';

/** The options given to `DatabaseModule.forRoot` / `forRootAsync`, defaults applied. */
export const DATABASE_OPTIONS = Symbol('DATABASE_OPTIONS');

/**
 * The embedded PostgreSQL the platform starts when no `url` is given. Started by the factory
 * of the `DataSource`; stopped by `Database` at shutdown, after the `DataSource` is closed.
 */
@Injectable()
export class EmbeddedDatabase {
  private readonly logger = new Logger('Database');
  private server?: EmbeddedPostgresServer;

  /** Starts (or shares) the server of `options.dataDir`; resolves to its URL. */
  async start(options: ResolvedDatabaseOptions): Promise<string> {
    this.server ??= new EmbeddedPostgresServer({ dataDir: options.dataDir, port: options.embeddedPort, log: (message) => this.logger.log(message) });
    return this.server.start();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}

/**
 * What `TypeOrmModule.forRootAsync` builds the one `DataSource` from: PostgreSQL at `options.url`
 * (else the embedded server's), the entities of every `TypeOrmModule.forFeature` (each module's
 * registration), the guarded pool of `poolOptions`, and no retry: a start-up that cannot reach
 * the database fails at once, naming why, instead of retrying for half a minute.
 */
export async function ownDataSourceOptions(options: ResolvedDatabaseOptions, embedded: EmbeddedDatabase): Promise<TypeOrmModuleOptions> {
  const logger = new Logger('Database');
  const url = options.url ?? (await embedded.start(options));
  return {
    type: 'postgres',
    url,
    autoLoadEntities: true,
    extra: poolOptions(options, (error) => logger.warn(`database connection lost (${error.message}); the pool opens a new one when needed`)),
    // Each lost connection is already reported once, by its own client (see guarded-client.ts).
    poolErrorHandler: () => undefined,
    applicationName: 'modulith',
    synchronize: false,
    migrationsRun: false,
    retryAttempts: 0,
    toRetry: () => false,
  };
}

import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ConfigurationError } from '@modulith/core';
import { Database, DEFAULT_DATABASE_TIMEOUTS, guardedClientClass } from '@modulith/database';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { SubscriberRegistry } from '../subscribers/subscriber-registry';

/**
 * Connections that delivery can hold at once in this process: each relay loop one for its claim;
 * each durable subscriber up to `RELAY_CONCURRENCY` attempts in flight (its partitions by key),
 * one for its retry loop and, in process, one for its log reader's lease; one spare for failure
 * records and wake-ups. A pool this size cannot deadlock on itself.
 */
export function requiredMessagingConnections(
  config: Pick<MessagingConfig, 'relayEnabled' | 'relayConcurrency' | 'eventTransport'>,
  durableSubscribers: number,
): number {
  const inProcess = config.eventTransport !== 'redis';
  const relay = config.relayEnabled ? config.relayConcurrency : 0;
  const subscribers = durableSubscribers * (config.relayConcurrency + 1 + (inProcess ? 1 : 0));
  return relay + subscribers + 1;
}

/**
 * Messaging's own connection pool, separate from the one requests use (`DB_POOL_SIZE`): the
 * relay, durable subscribers and the retry poller can then never take the connections the HTTP
 * path needs, whatever the backlog, and HTTP load can never starve delivery. Same server and
 * settings as the app's `DataSource`, plus the messaging bounds on every connection:
 * `statement_timeout` (`HANDLER_TIMEOUT_MS`) and `lock_timeout` (`MESSAGING_LOCK_TIMEOUT_MS`).
 * Opened on first use (after the app's database is up), closed at application shutdown.
 */
@Injectable()
export class MessagingConnections implements OnApplicationShutdown {
  private readonly logger = new Logger('Messaging');
  private opening?: Promise<DataSource>;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly registry: SubscriberRegistry,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  /** The pool; rejects with a `ConfigurationError` when `MESSAGING_POOL_SIZE` is too small. */
  dataSource(): Promise<DataSource> {
    if (this.closed) return Promise.reject(new Error('messaging connections are closed'));
    this.opening ??= this.open();
    return this.opening;
  }

  /** Validates the pool size without opening it (start-up calls this before anything runs). */
  size(): number {
    const durable = this.registry.definitions.filter((definition) => definition.mode !== 'best-effort').length;
    const needed = requiredMessagingConnections(this.config, durable);
    if (this.config.messagingPoolSize === 0) return needed;
    if (this.config.messagingPoolSize < needed) {
      throw new ConfigurationError(
        `MESSAGING_POOL_SIZE=${this.config.messagingPoolSize} is too small: ${this.config.relayConcurrency} relay loop(s) and ${durable} durable ` +
          `subscriber(s) can hold ${needed} connections at once; set MESSAGING_POOL_SIZE to at least ${needed}, or unset it to size it automatically`,
        { variable: 'MESSAGING_POOL_SIZE', needed },
      );
    }
    return this.config.messagingPoolSize;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    const source = await this.opening?.catch(() => undefined);
    if (source?.isInitialized) await source.destroy();
  }

  private async open(): Promise<DataSource> {
    const max = this.size();
    const base = this.database.dataSource.options as DataSourceOptions & { applicationName?: string; extra?: { connectionTimeoutMillis?: number } };
    const options = {
      ...base,
      applicationName: `${base.applicationName ?? 'modulith'}-messaging`,
      migrationsRun: false,
      synchronize: false,
      // Each lost connection is reported once, by its own client.
      poolErrorHandler: () => undefined,
      extra: {
        // A host application's DataSource may set none of these: delivery still never waits
        // unbounded for a connection, notices a vanished peer, and survives a lost one.
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        ...base.extra,
        connectionTimeoutMillis: base.extra?.connectionTimeoutMillis ?? DEFAULT_DATABASE_TIMEOUTS.acquireTimeoutMs,
        Client: guardedClientClass((error) => this.logger.warn(`messaging connection lost (${error.message}); the pool opens a new one when needed`)),
        max,
        statement_timeout: this.config.handlerTimeoutMs,
        lock_timeout: this.config.lockTimeoutMs,
        // A process that stops mid-transaction (paused, frozen) must not hold locks for ever; the
        // relay's claim, which waits on subscribers, lifts this for its own transaction.
        idle_in_transaction_session_timeout: this.config.handlerTimeoutMs + 5000,
      },
    };
    const source = new DataSource(options as DataSourceOptions);
    await source.initialize();
    this.logger.log(`messaging pool of ${max} connections (separate from the request pool)`);
    return source;
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CLOCK, systemClock, type Clock } from '@modulith/core';
import { DatabaseModule, defineModule, type ModuleDefinition } from '@modulith/database';
import { CALL_TRANSPORT, InProcessCallTransport, type CallTransport } from './calls/call-transport';
import { CallRouter } from './calls/call-router';
import { DeadLetters } from './dead-letters/dead-letters';
import { InboxMigrations } from './inbox/inbox-migrations';
import { InboxPruner } from './inbox/inbox-pruner';
import { MESSAGING_CONFIG, resolveMessagingConfig, type MessagingConfig, type MessagingOptions } from './messaging.config';
import { ConfigurableMessagingModule, MESSAGING_OPTIONS, type MessagingAsyncOptions } from './messaging.module-definition';
import { MessagingRuntime } from './messaging.runtime';
import { MessagingMetrics } from './metrics/messaging-metrics';
import { messagingSchema } from './outbox/messaging-schema';
import { DirectPublishGuard } from './outbox/direct-publish-guard';
import { Outbox } from './outbox/outbox';
import { OutboxSignals } from './outbox/outbox-signals';
import { OutboxRetention } from './outbox/outbox-retention';
import { Relay } from './relay/relay';
import { RetryPoller } from './retries/retry-poller';
import { RetryStore } from './retries/retry-store';
import { MessagingConnections } from './sql/messaging-connections';
import { ObserverDispatcher } from './observers/observer-dispatcher';
import { MessagingModuleRegistration } from './subscribers/messaging-module-registration';
import { SubscriberRegistry } from './subscribers/subscriber-registry';
import { MessagingTopology } from './topology/messaging-topology';
import { InProcessTransport } from './transport/in-process.transport';
import { EventLog } from './log/event-log';
import { TRANSPORT, type Transport } from './transport/transport';


/**
 * The messaging platform. Import `forRoot` once in the composition root (after
 * `DatabaseModule.forRoot`), and `forModule` in every module that publishes or subscribes.
 */
@Module({})
export class MessagingModule extends ConfigurableMessagingModule {
  /**
   * Outbox relay, transport (in-process, or Redis Streams with `eventTransport: 'redis'`),
   * retries, dead letters, outbox retention and metrics, and remote commands and queries
   * (`@PublicQuery` / `@PublicCommand` of modules not hosted here travel over Redis with the
   * Redis transport, see `CallRouter`), for the whole app. Every option has a default (see the
   * README); a bad one throws `ConfigurationError` naming it, here. Reads no environment
   * variable. `transport`: an event transport of the app's own (a `Transport` from
   * `@modulith/messaging/transport`) instead of the one `eventTransport` names. Events need no
   * CQRS bus (the relay hands them straight to the transport); public commands and queries need
   * the root's `CqrsModule.forRoot()`, once.
   */
  static override forRoot(options: MessagingOptions = {}): DynamicModule {
    resolveMessagingConfig(options);
    return withPlatform(super.forRoot(options));
  }

  /**
   * `forRoot` with options from a factory, e.g.
   * `forRootAsync({ imports: [ConfigModule], useFactory: (config: ConfigService) => ({ ... }), inject: [ConfigService] })`.
   * A bad option fails the app's start (`ConfigurationError` naming it).
   */
  static override forRootAsync(options: MessagingAsyncOptions): DynamicModule {
    return withPlatform(super.forRootAsync(options));
  }

  /**
   * Registers a module with the platform, in one call, from its `defineModule(...)` definition:
   * its schema, entities (`TypeOrmModule.forFeature`, so `@InjectRepository` works in the
   * module) and migrations (`DatabaseModule.forModule`); the inbox of its durable
   * `@OnIntegrationEvent` subscribers (added to its migrations at start-up, see `InboxMigrations`);
   * and an `Outbox` that stamps its name on what it publishes. A module with `schema: false`
   * gets the outbox and best-effort subscribers only.
   *
   * ```ts
   * export const ledger = defineModule({ name: 'ledger', schema: 'ledger', entities: [BalanceEntity], migrations: [CreateLedger0001] });
   * @Module({ imports: [MessagingModule.forModule(ledger)], providers: [...] })
   * export class LedgerModule {}
   * ```
   *
   * @throws ConfigurationError when the definition is invalid (see `defineModule`).
   */
  static forModule(definition: ModuleDefinition): DynamicModule {
    const module = defineModule(definition);
    const database = module.schema === false ? [] : [DatabaseModule.forModule(module)];
    return {
      module: MessagingFeatureModule,
      imports: database,
      providers: [
        { provide: MessagingModuleRegistration, useValue: new MessagingModuleRegistration({ module: module.name, schema: module.schema || undefined }) },
        // The app's CLOCK, if it provides one (tests do), stamps each envelope's occurredAt.
        {
          provide: Outbox,
          useFactory: (signals: OutboxSignals, clock?: Clock) => new Outbox(module.name, signals, clock ?? systemClock),
          inject: [OutboxSignals, { token: CLOCK, optional: true }],
        },
      ],
      // The database registration's repositories reach the module too.
      exports: [Outbox, ...database],
    };
  }
}

/** The platform's providers around the options provider that Nest's builder made; one for the whole app. */
function withPlatform(definition: DynamicModule): DynamicModule {
  return {
    ...definition,
    global: true,
    imports: [...(definition.imports ?? []), DiscoveryModule, DatabaseModule.forModule(messagingSchema)],
    providers: [
      ...(definition.providers ?? []),
      { provide: MESSAGING_CONFIG, useFactory: (options?: MessagingOptions) => resolveMessagingConfig(options), inject: [MESSAGING_OPTIONS] },
      EventLog,
      InProcessTransport,
      {
        provide: TRANSPORT,
        useFactory: (config: MessagingConfig, inProcess: InProcessTransport, options?: MessagingOptions) =>
          chooseTransport(config, inProcess, options?.transport),
        inject: [MESSAGING_CONFIG, InProcessTransport, MESSAGING_OPTIONS],
      },
      DirectPublishGuard,
      { provide: CALL_TRANSPORT, useFactory: (config: MessagingConfig) => chooseCallTransport(config), inject: [MESSAGING_CONFIG] },
      CallRouter,
      ObserverDispatcher,
      MessagingTopology,
      OutboxSignals,
      SubscriberRegistry,
      RetryStore,
      RetryPoller,
      Relay,
      InboxPruner,
      InboxMigrations,
      MessagingMetrics,
      MessagingConnections,
      DeadLetters,
      OutboxRetention,
      MessagingRuntime,
    ],
    exports: [OutboxSignals, DeadLetters, MessagingMetrics, OutboxRetention, MessagingTopology],
  };
}

/** The app's own transport when it passed one (see `@modulith/messaging/transport`), else by `eventTransport`. */
function chooseTransport(config: MessagingConfig, inProcess: InProcessTransport, custom?: Transport): Transport {
  if (custom) return custom;
  if (config.eventTransport !== 'redis') return inProcess;
  // Loaded only when chosen: ioredis (an optional peer) is needed only by apps on the Redis transport.
  const { RedisStreamsTransport } = require('./transport/redis/redis-streams.transport') as typeof import('./transport/redis/redis-streams.transport');
  return new RedisStreamsTransport({
    ...redisOf(config),
    streamMaxLen: config.redisStreamMaxLen,
    claimIdleMs: config.redisClaimIdleMs,
    heartbeatMs: config.redisConsumerHeartbeatMs,
    consumerTtlMs: config.redisConsumerTtlMs,
    consumerName: config.redisConsumerName,
  });
}

/** Remote commands and queries travel with the events: over Redis, or nowhere (one process). */
function chooseCallTransport(config: MessagingConfig): CallTransport {
  if (config.eventTransport !== 'redis') return new InProcessCallTransport();
  const { callHeartbeatMs: heartbeatMs, callHostTtlMs: hostTtlMs, callStreamMaxLen: streamMaxLen, callConcurrency: concurrency } = config;
  // Loaded only when chosen: ioredis (an optional peer) is needed only by apps on the Redis transport.
  const { RedisCallTransport } = require('./transport/redis/redis-calls.transport') as typeof import('./transport/redis/redis-calls.transport');
  return new RedisCallTransport({ ...redisOf(config), heartbeatMs, hostTtlMs, streamMaxLen, concurrency, overrunGraceMs: config.callOverrunGraceMs });
}

/** The Redis server, key prefix and call bound both transports share. */
function redisOf(config: MessagingConfig): { url: string; keyPrefix: string; commandTimeoutMs: number } {
  // resolveMessagingConfig requires redisUrl when the transport is redis.
  return { url: config.redisUrl as string, keyPrefix: config.redisKeyPrefix, commandTimeoutMs: config.redisCommandTimeoutMs };
}

/** One per registered module; separate from MessagingModule so `forModule` can repeat. */
@Module({})
class MessagingFeatureModule {}

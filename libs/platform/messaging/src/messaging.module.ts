import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CLOCK, systemClock, type Clock } from '@modulith/core';
import { DatabaseModule, defineModule, type ModuleDefinition } from '@modulith/database';
import { CALL_TRANSPORT, InProcessCallTransport, type CallTransport } from './calls/call-transport';
import { CallRouter } from './calls/call-router';
import { DeadLetters } from './dead-letters/dead-letters';
import { InboxMigrations } from './inbox/inbox-migrations';
import { InboxPruner } from './inbox/inbox-pruner';
import { assertMessagingConfig, MESSAGING_CONFIG, messagingConfigFromEnv, type MessagingConfig } from './messaging.config';
import { MessagingRuntime } from './messaging.runtime';
import { MessagingMetrics } from './metrics/messaging-metrics';
import { messagingSchema } from './outbox/messaging-schema';
import { Outbox } from './outbox/outbox';
import { OutboxSignals } from './outbox/outbox-signals';
import { OutboxRetention } from './relay/outbox-retention';
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
import { IntegrationEventPublisher } from './transport/integration-event.publisher';
import { RedisCallTransport } from './transport/redis/redis-calls.transport';
import { RedisStreamsTransport } from './transport/redis/redis-streams.transport';
import { TRANSPORT, type Transport } from './transport/transport';


/**
 * The messaging platform. Import `forRoot` once in the composition root (after
 * `DatabaseModule.forRoot`), and `forModule` in every module that publishes or subscribes.
 */
@Module({})
export class MessagingModule {
  /**
   * Outbox relay, transport (in-process, or Redis Streams with `EVENT_TRANSPORT=redis`), retries,
   * dead letters, outbox retention and metrics, and remote commands and queries (`@PublicQuery` /
   * `@PublicCommand` of modules not hosted here travel over Redis with `EVENT_TRANSPORT=redis`,
   * see `CallRouter`), for the whole app. Settings come from the
   * environment (see the README); `overrides` win over it. The composition root must also import
   * `CqrsModule.forRoot()`, once: the relay publishes through its EventBus (a second `forRoot()`
   * would make a second bus).
   */
  static forRoot(overrides: Partial<MessagingConfig> = {}): DynamicModule {
    const config: MessagingConfig = { ...messagingConfigFromEnv(), ...overrides };
    assertMessagingConfig(config);
    return {
      module: MessagingModule,
      global: true,
      imports: [DiscoveryModule, DatabaseModule.forModule(messagingSchema)],
      providers: [
        { provide: MESSAGING_CONFIG, useValue: config },
        EventLog,
        InProcessTransport,
        { provide: TRANSPORT, useFactory: (inProcess: InProcessTransport) => chooseTransport(config, inProcess), inject: [InProcessTransport] },
        IntegrationEventPublisher,
        { provide: CALL_TRANSPORT, useFactory: () => chooseCallTransport(config) },
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

function chooseTransport(config: MessagingConfig, inProcess: InProcessTransport): Transport {
  if (config.eventTransport !== 'redis') return inProcess;
  return new RedisStreamsTransport({ ...redisOf(config), streamMaxLen: config.redisStreamMaxLen, claimIdleMs: config.redisClaimIdleMs });
}

/** Remote commands and queries travel with the events: over Redis, or nowhere (one process). */
function chooseCallTransport(config: MessagingConfig): CallTransport {
  if (config.eventTransport !== 'redis') return new InProcessCallTransport();
  const { callHeartbeatMs: heartbeatMs, callHostTtlMs: hostTtlMs, callStreamMaxLen: streamMaxLen, callConcurrency: concurrency } = config;
  return new RedisCallTransport({ ...redisOf(config), heartbeatMs, hostTtlMs, streamMaxLen, concurrency, overrunGraceMs: config.callOverrunGraceMs });
}

/** The Redis server, key prefix and call bound both transports share. */
function redisOf(config: MessagingConfig): { url: string; keyPrefix: string; commandTimeoutMs: number } {
  // redisUrl is checked by assertMessagingConfig when the transport is redis.
  return { url: config.redisUrl as string, keyPrefix: config.redisKeyPrefix, commandTimeoutMs: config.redisCommandTimeoutMs };
}

/** One per registered module; separate from MessagingModule so `forModule` can repeat. */
@Module({})
class MessagingFeatureModule {}

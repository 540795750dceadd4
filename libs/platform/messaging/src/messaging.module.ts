import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CLOCK, ConfigurationError, systemClock, type Clock } from '@modulith/core';
import { DatabaseModule } from '@modulith/database';
import { CALL_TRANSPORT, InProcessCallTransport, type CallTransport } from './calls/call-transport';
import { CallRouter } from './calls/call-router';
import { DeadLetters } from './dead-letters/dead-letters';
import { InboxPruner } from './inbox/inbox-pruner';
import { assertMessagingConfig, MESSAGING_CONFIG, messagingConfigFromEnv, type MessagingConfig } from './messaging.config';
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
import { MessagingModuleRegistration, type MessagingModuleOptions } from './subscribers/messaging-module-registration';
import { SubscriberRegistry } from './subscribers/subscriber-registry';
import { MessagingTopology } from './topology/messaging-topology';
import { InProcessTransport } from './transport/in-process.transport';
import { EventLog } from './log/event-log';
import { RedisCallTransport } from './transport/redis/redis-calls.transport';
import { RedisStreamsTransport } from './transport/redis/redis-streams.transport';
import { TRANSPORT, type Transport } from './transport/transport';

const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

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
   * environment (see the README); `overrides` win over it. `transport`: an event transport of
   * the app's own (a `Transport` from `@modulith/messaging/transport`) instead of the one
   * `eventTransport` names. Events need no CQRS bus (the relay hands them straight to the
   * transport); public commands and queries need the root's `CqrsModule.forRoot()`, once.
   */
  static forRoot({ transport, ...overrides }: Partial<MessagingConfig> & { transport?: Transport } = {}): DynamicModule {
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
        { provide: TRANSPORT, useFactory: (inProcess: InProcessTransport) => chooseTransport(config, inProcess, transport), inject: [InProcessTransport] },
        DirectPublishGuard,
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
   * Registers a module with the platform: gives it an `Outbox` that stamps its name on what it
   * publishes, and tells discovery where the inboxes of its `@OnIntegrationEvent` subscribers
   * live (add `inboxMigration(schema)` to its migrations).
   */
  static forModule(options: MessagingModuleOptions): DynamicModule {
    if (!IDENTIFIER.test(options.schema)) {
      throw new ConfigurationError(`MessagingModule.forModule: schema "${options.schema}" must be a lower-case SQL identifier`, {
        module: options.module,
      });
    }
    return {
      module: MessagingFeatureModule,
      providers: [
        { provide: MessagingModuleRegistration, useValue: new MessagingModuleRegistration({ ...options }) },
        // The app's CLOCK, if it provides one (tests do), stamps each envelope's occurredAt.
        {
          provide: Outbox,
          useFactory: (signals: OutboxSignals, clock?: Clock) => new Outbox(options.module, signals, clock ?? systemClock),
          inject: [OutboxSignals, { token: CLOCK, optional: true }],
        },
      ],
      exports: [Outbox],
    };
  }
}

/** The app's own transport when it passed one (see `@modulith/messaging/transport`), else by `eventTransport`. */
function chooseTransport(config: MessagingConfig, inProcess: InProcessTransport, custom?: Transport): Transport {
  if (custom) return custom;
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

import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ConfigurationError, uuidv7 } from '@modulith/core';
import { Database } from '@modulith/database';
import { CallRouter } from './calls/call-router';
import { InboxPruner } from './inbox/inbox-pruner';
import { EventLog } from './log/event-log';
import { MESSAGING_CONFIG, type MessagingConfig } from './messaging.config';
import { ShutdownTimeoutError } from './messaging.errors';
import { MessagingMetrics } from './metrics/messaging-metrics';
import { ObserverDispatcher } from './observers/observer-dispatcher';
import { DirectPublishGuard } from './outbox/direct-publish-guard';
import { MESSAGING_SCHEMA } from './outbox/messaging-schema';
import { OutboxRetention } from './outbox/outbox-retention';
import { OutboxSignals } from './outbox/outbox-signals';
import { LOG_CHANNEL, NotifyCoalescer, OUTBOX_CHANNEL } from './relay/notify-coalescer';
import { listenerConnection, OutboxListener } from './relay/outbox-listener';
import { Relay } from './relay/relay';
import { describeFailure } from './retries/failure';
import { RetryPoller } from './retries/retry-poller';
import { RetryStore } from './retries/retry-store';
import { MessagingConnections } from './sql/messaging-connections';
import { queryRows } from './sql/query-rows';
import { BestEffortSubscriber } from './subscribers/best-effort-subscriber';
import { DurableSubscriber } from './subscribers/durable-subscriber';
import type { SubscriberDefinition } from './subscribers/subscriber-definition';
import { SubscriberRegistry } from './subscribers/subscriber-registry';
import { MessagingTopology, type TopologyStatus } from './topology/messaging-topology';
import { InProcessTransport } from './transport/in-process.transport';
import { TRANSPORT, type Transport } from './transport/transport';

// After the budget, how long the relay gets to roll back its abandoned claims, and the
// instance row to be removed: both come out of the app's reserve for closing (see the README).
const ABANDON_GRACE_MS = 1000;

/**
 * The one owner of messaging's background work: nothing else in this library starts or stops a
 * loop, timer or connection on its own (no other provider has a Nest lifecycle hook but the
 * pool's close, `MessagingConnections`).
 *
 * Start, on `onApplicationBootstrap` (after every module's `onModuleInit`, so after migrations):
 * 1. checks that start nothing: inboxes exist, the pool is large enough, no plain
 *    `@EventsHandler` of an integration event; observers are found (their queues idle until the
 *    relay runs); 2. remote calls (`CallRouter`: forwarding handlers, the call transport and its
 *    heartbeat, the receipt pruner); 3. the direct-publish guard; 4. topology (instance row,
 *    heartbeat; refuses a topology that would lose events); 5. subscriber registration in the
 *    event log; 6. the event transport with its subscribers (log readers or consumer loops);
 *    7. best-effort queues; 8. the commit wake-ups, the LISTEN connection (`RELAY_ENABLED`, or log
 *    readers here), the relay loops and outbox retention (`RELAY_ENABLED`); 9. the retry poller and the inbox pruner.
 *
 * Stop, on `onModuleDestroy` (the database is still open), remote calls and events side by side:
 * remote calls withdraw their presence and let calls in flight finish; and 1. stop claiming:
 * relay loops, retry poller, inbox pruner and outbox retention stop and let their in-flight
 * batches commit; 2. the transport finishes its deliveries; 3. best-effort queues and observers
 * finish their calls. Each side has `MESSAGING_SHUTDOWN_TIMEOUT_MS`: past it whatever still runs is
 * abandoned (named in the log, its claims roll back). Then, regardless: the LISTEN connection,
 * heartbeat and instance row go, and the guard comes off; `beforeApplicationShutdown` detaches
 * the commit wake-ups, and the pool closes last (`MessagingConnections`). Nothing of messaging
 * outlives `close()` but handler calls that never return.
 */
@Injectable()
export class MessagingRuntime implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Messaging');
  private bestEffort: BestEffortSubscriber[] = [];
  private listener?: OutboxListener;
  private notifier?: NotifyCoalescer;
  private logNotifier?: NotifyCoalescer;
  /** This process, in the payload of its `LOG_CHANNEL` notifications (it ignores its own). */
  private readonly instanceId = uuidv7();
  private unsubscribe?: () => void;
  private unwatchTopology?: () => void;
  private relayToggle: Promise<void> = Promise.resolve();
  private closing = false;
  private stopped?: Promise<void>;

  /** The Redis Streams transport `eventTransport: 'redis'` chose (compared by name: its class is loaded only when chosen). */
  private isBuiltInRedis(): boolean {
    return this.config.eventTransport === 'redis' && this.transport.name === 'redis-streams';
  }

  constructor(
    private readonly database: Database,
    private readonly registry: SubscriberRegistry,
    @Inject(TRANSPORT) private readonly transport: Transport,
    private readonly calls: CallRouter,
    private readonly guard: DirectPublishGuard,
    private readonly retention: OutboxRetention,
    private readonly relay: Relay,
    private readonly retryPoller: RetryPoller,
    private readonly pruner: InboxPruner,
    private readonly signals: OutboxSignals,
    private readonly retries: RetryStore,
    private readonly metrics: MessagingMetrics,
    private readonly connections: MessagingConnections,
    private readonly topology: MessagingTopology,
    private readonly observers: ObserverDispatcher,
    private readonly inProcess: InProcessTransport,
    private readonly eventLog: EventLog,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const definitions = this.registry.definitions;
    await this.assertInboxes(definitions);
    // Refuses a MESSAGING_POOL_SIZE too small for what runs here before anything starts.
    await this.connections.dataSource();
    // Refuses a plain @EventsHandler of an integration event; the observers' queues wait idle until the relay runs.
    this.observers.start();
    await this.calls.start();
    const durable = definitions
      .filter((definition) => definition.mode !== 'best-effort')
      .map(
        (definition) =>
          new DurableSubscriber(definition, {
            connections: this.connections,
            signals: this.signals,
            retries: this.retries,
            metrics: this.metrics,
            config: this.config,
            retryScheduled: (delayMs) => this.retryPoller.wakeIn(delayMs),
          }),
      );
    this.bestEffort = definitions
      .filter((definition) => definition.mode === 'best-effort')
      .map((definition) => new BestEffortSubscriber(definition, this.metrics, this.config.bestEffortQueueCapacity));
    this.guard.install();
    // Before anything runs: a topology that would lose events refuses to start here.
    await this.topology.start({
      // A transport of the app's own is compared by name: the in-process rules are not its rules.
      ...(this.transport === this.inProcess || this.isBuiltInRedis() ? {} : { transport: this.transport.name }),
      relayEnabled: this.config.relayEnabled,
      modules: [...new Set(durable.map((subscriber) => subscriber.definition.module))],
      durable: durable.map((subscriber) => subscriber.subscriber),
      bestEffort: this.bestEffort.map((subscriber) => subscriber.subscriber),
      eventTypes: [...new Set(durable.flatMap((subscriber) => subscriber.eventTypes))],
    });
    // A durable subscriber met for the first time (hosted here or only declared) starts every
    // ordering key from now.
    await this.eventLog.register([
      ...durable.map((subscriber) => ({ subscriber: subscriber.subscriber, eventType: subscriber.eventTypes[0] })),
      ...this.config.declaredDurableSubscribers.filter((declared) => !durable.some((subscriber) => subscriber.subscriber === declared.subscriber)),
    ]);
    // A process that consumes nothing (a CLI command) subscribes nothing: its modules' handlers never run here.
    const consumed = this.config.consumeEvents ? [...durable, ...this.bestEffort] : [];
    for (const subscriber of consumed) this.transport.subscribe(subscriber);
    await this.transport.start();
    if (this.config.consumeEvents) this.bestEffort.forEach((subscriber) => subscriber.start());

    const dataSource = this.database.dataSource;
    const notifier = (channel: string, payload: string): NotifyCoalescer =>
      new NotifyCoalescer(
        async () => void (await dataSource.query('SELECT pg_notify($1, $2)', [channel, payload])),
        this.config.relayNotifyDebounceMs,
        (error) => this.logger.debug(`NOTIFY ${channel} failed: ${describeFailure(error).message}`),
      );
    this.notifier = notifier(OUTBOX_CHANNEL, '');
    // Other processes' log readers learn of this relay's claims at once, not at their next poll.
    const logNotifier = notifier(LOG_CHANNEL, this.instanceId);
    this.logNotifier = logNotifier;
    this.relay.onAppended(() => logNotifier.signal());
    this.signals.attach(dataSource);
    this.unsubscribe = this.signals.onCommitted(() => {
      this.relay.wake();
      this.notifier?.signal();
    });
    // A process whose relay is off may still hold log cursors: other processes' claims wake its readers.
    if (this.config.relayListen && (this.config.relayEnabled || (this.transport.logReaders?.() ?? 0) > 0)) {
      this.listener = new OutboxListener(listenerConnection(dataSource), (channel, payload) => this.notified(channel, payload), this.logger);
      await this.listener.start();
    }
    if (this.config.relayEnabled) {
      this.unwatchTopology = this.topology.onChange((status) => this.applyTopology(status));
      this.relay.start();
      this.retention.start();
    }
    if (this.config.consumeEvents) {
      this.retryPoller.start(durable);
      this.pruner.start(durable.map((subscriber) => subscriber.definition));
    }
    this.logger.log(
      `started: ${this.transport.name} transport, relay ${this.config.relayEnabled ? `on (batch ${this.config.relayBatchSize})` : 'off'}, ` +
        `subscribers: ${this.config.consumeEvents ? definitions.map((definition) => definition.subscriber).join(', ') || 'none' : 'none (consumeEvents: false)'}`,
    );
  }

  /** Stops claiming as early as possible in shutdown; the database is still open. */
  async onModuleDestroy(): Promise<void> {
    // Side by side, as one budget: a command still running here may append events, which simply
    // stay in the outbox for the next relay.
    this.stopped ??= Promise.all([this.stopCalls(), this.drain()]).then(() => undefined);
    await this.stopped;
  }

  beforeApplicationShutdown(): void {
    this.notifier?.stop();
    this.logNotifier?.stop();
    this.unsubscribe?.();
    try {
      this.signals.detach(this.database.dataSource);
    } catch {
      // the data source never came up: nothing to detach from
    }
  }

  private async stopCalls(): Promise<void> {
    try {
      await this.calls.stop();
    } catch (error) {
      this.logger.warn(`remote calls did not stop cleanly: ${describeFailure(error).message}`);
    }
  }

  /** A notification from another process: its outbox commits wake the relay, its log claims the log readers here. */
  private notified(channel: string, payload: string): void {
    if (channel !== LOG_CHANNEL) this.relay.wake();
    else if (payload !== this.instanceId) this.transport.appendedElsewhere?.();
  }

  /** Pauses the relay while the topology would lose events, and resumes it once it would not. */
  private applyTopology(status: TopologyStatus): void {
    this.relayToggle = this.relayToggle.then(async () => {
      if (this.closing) return;
      if (!status.ok && this.relay.isRunning) {
        this.logger.error(`relay paused (nothing is deleted until this is fixed): ${status.problems.join('; ')}`);
        await this.relay.stop();
      } else if (status.ok && !this.relay.isRunning) {
        this.logger.log('relay resumed: the topology is safe again');
        this.relay.start();
      }
    });
  }

  private async drain(): Promise<void> {
    this.closing = true;
    this.unwatchTopology?.();
    const pending = new Set<string>();
    const step = <T>(name: string, work: Promise<T>): Promise<T> => {
      pending.add(name);
      return work.finally(() => pending.delete(name));
    };
    const stopping = (async () => {
      await this.relayToggle;
      await Promise.all([
        step('relay loops', this.relay.stop()),
        step('retry poller', this.retryPoller.stop()),
        step('inbox pruner', this.pruner.stop()),
        step('outbox retention', this.retention.stop()),
      ]);
      await step(`${this.transport.name} transport`, this.transport.stop());
      await Promise.all([
        ...this.bestEffort.map((subscriber) => step(subscriber.subscriber, subscriber.stop())),
        step('observers', this.observers.stop()),
      ]);
    })();
    const outcome = await within(stopping.then(() => 'done' as const), this.config.shutdownTimeoutMs);
    if (outcome === 'timeout') {
      const abandoned = [...pending, ...this.inProcess.busy().map((name) => `subscriber ${name}`), ...this.observers.busy()];
      const error = new ShutdownTimeoutError(
        `in-flight work did not finish within ${this.config.shutdownTimeoutMs} ms (shutdownTimeoutMs): abandoned ${abandoned.join(', ') || 'nothing named'}`,
        { timeoutMs: this.config.shutdownTimeoutMs, abandoned },
      );
      this.logger.error(`${error.message}; their claims roll back and are delivered again after restart`);
      // The relay's pending publishes reject, so its loops roll back, release their connections and end.
      this.inProcess.abandon();
      await within(stopping, ABANDON_GRACE_MS);
    }
    // Whatever happened above: no connection, timer or row of ours outlives close().
    await Promise.all([this.listener?.stop(), within(this.topology.stop(), ABANDON_GRACE_MS)]);
    this.guard.uninstall();
    if (outcome === 'done') this.logger.log('stopped: relay drained');
  }

  /**
   * Refuses to start on a database whose migrations were not applied (`MIGRATE_ON_START` off):
   * messaging's own tables, then each durable subscriber's inbox. A process hosting no durable
   * subscriber would otherwise fail on the first query with a bare "relation does not exist".
   */
  private async assertInboxes(definitions: readonly SubscriberDefinition[]): Promise<void> {
    await this.assertTable(`"${MESSAGING_SCHEMA}".outbox`, 'messaging needs its tables', { module: 'messaging', schema: MESSAGING_SCHEMA });
    const schemas = [...new Set(definitions.filter((definition) => definition.mode !== 'best-effort').map((definition) => definition.schema))];
    for (const schema of schemas) {
      const module = definitions.find((definition) => definition.schema === schema)?.module;
      await this.assertTable(`"${schema}".inbox`, `module ${module} subscribes to integration events`, { module, schema });
    }
  }

  private async assertTable(table: string, why: string, context: { module?: string; schema: string }): Promise<void> {
    const [row] = await queryRows<{ table: string | null }>(this.database.dataSource, 'SELECT to_regclass($1)::text AS table', [table]);
    if (!row?.table) {
      throw new ConfigurationError(`${why} but ${table} does not exist: apply its migrations first (MIGRATE_ON_START, or the migrate command)`, context);
    }
  }
}

/** `work`'s outcome, or 'timeout' after `ms` (the timer does not outlive the wait). */
async function within<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

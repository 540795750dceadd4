import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ConfigurationError } from '@modulith/core';
import { Database } from '@modulith/database';
import { InboxPruner } from './inbox/inbox-pruner';
import { MESSAGING_CONFIG, type MessagingConfig } from './messaging.config';
import { ShutdownTimeoutError } from './messaging.errors';
import { MessagingMetrics } from './metrics/messaging-metrics';
import { OutboxSignals } from './outbox/outbox-signals';
import { NotifyCoalescer, OUTBOX_CHANNEL } from './relay/notify-coalescer';
import { listenerConnection, OutboxListener } from './relay/outbox-listener';
import { Relay } from './relay/relay';
import { describeFailure } from './retries/failure';
import { RetryPoller } from './retries/retry-poller';
import { RetryStore } from './retries/retry-store';
import { queryRows } from './sql/query-rows';
import { BestEffortSubscriber } from './subscribers/best-effort-subscriber';
import { DurableSubscriber } from './subscribers/durable-subscriber';
import type { SubscriberDefinition } from './subscribers/subscriber-definition';
import { SubscriberRegistry } from './subscribers/subscriber-registry';
import { IntegrationEventPublisher } from './transport/integration-event.publisher';
import { TRANSPORT, type Transport } from './transport/transport';

/**
 * Starts and stops the moving parts in order. Start (after every module is initialised and the
 * database migrated): subscribers, transport, wake-ups, relay, retries. Stop (before the
 * database closes): stop claiming, let in-flight batches commit, then let go of connections.
 */
@Injectable()
export class MessagingRuntime implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Messaging');
  private bestEffort: BestEffortSubscriber[] = [];
  private listener?: OutboxListener;
  private notifier?: NotifyCoalescer;
  private unsubscribe?: () => void;
  private stopped?: Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly registry: SubscriberRegistry,
    @Inject(TRANSPORT) private readonly transport: Transport,
    private readonly publisher: IntegrationEventPublisher,
    private readonly relay: Relay,
    private readonly retryPoller: RetryPoller,
    private readonly pruner: InboxPruner,
    private readonly signals: OutboxSignals,
    private readonly retries: RetryStore,
    private readonly metrics: MessagingMetrics,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const definitions = this.registry.definitions;
    await this.assertInboxes(definitions);
    const durable = definitions
      .filter((definition) => definition.mode !== 'best-effort')
      .map(
        (definition) =>
          new DurableSubscriber(definition, {
            database: this.database,
            retries: this.retries,
            metrics: this.metrics,
            config: this.config,
            retryScheduled: (delayMs) => this.retryPoller.wakeIn(delayMs),
          }),
      );
    this.bestEffort = definitions
      .filter((definition) => definition.mode === 'best-effort')
      .map((definition) => new BestEffortSubscriber(definition, this.metrics, this.config.bestEffortQueueCapacity));
    for (const subscriber of [...durable, ...this.bestEffort]) this.transport.subscribe(subscriber);
    this.publisher.install();
    await this.transport.start();
    this.bestEffort.forEach((subscriber) => subscriber.start());

    const dataSource = this.database.dataSource;
    this.notifier = new NotifyCoalescer(
      async () => void (await dataSource.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`)),
      this.config.relayNotifyDebounceMs,
      (error) => this.logger.debug(`NOTIFY failed: ${describeFailure(error).message}`),
    );
    this.signals.attach(dataSource);
    this.unsubscribe = this.signals.onCommitted(() => {
      this.relay.wake();
      this.notifier?.signal();
    });
    if (this.config.relayEnabled) {
      this.warnIfPoolTooSmall(durable.length);
      if (this.config.relayListen) {
        this.listener = new OutboxListener(listenerConnection(dataSource), () => this.relay.wake(), this.logger);
        await this.listener.start();
      }
      this.relay.start(this.registry.eventClasses());
    }
    this.retryPoller.start(durable);
    this.pruner.start(durable.map((subscriber) => subscriber.definition));
    this.logger.log(
      `started: ${this.transport.name} transport, relay ${this.config.relayEnabled ? `on (batch ${this.config.relayBatchSize})` : 'off'}, ` +
        `subscribers: ${definitions.map((definition) => definition.subscriber).join(', ') || 'none'}`,
    );
  }

  /** Stops claiming as early as possible in shutdown; the database is still open. */
  async onModuleDestroy(): Promise<void> {
    this.stopped ??= this.drain();
    await this.stopped;
  }

  beforeApplicationShutdown(): void {
    this.notifier?.stop();
    this.unsubscribe?.();
    try {
      this.signals.detach(this.database.dataSource);
    } catch {
      // the data source never came up: nothing to detach from
    }
  }

  private async drain(): Promise<void> {
    const stopping = (async () => {
      await Promise.all([this.relay.stop(), this.retryPoller.stop(), this.pruner.stop()]);
      await this.transport.stop();
      await Promise.all(this.bestEffort.map((subscriber) => subscriber.stop()));
      await this.listener?.stop();
      this.publisher.uninstall();
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.shutdownTimeoutMs);
    });
    const outcome = await Promise.race([stopping.then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      const error = new ShutdownTimeoutError(`in-flight batches did not finish within ${this.config.shutdownTimeoutMs} ms`, {
        timeoutMs: this.config.shutdownTimeoutMs,
      });
      this.logger.error(`${error.message}; their claims roll back and are delivered again after restart`);
      return;
    }
    this.logger.log('stopped: relay drained');
  }

  private async assertInboxes(definitions: readonly SubscriberDefinition[]): Promise<void> {
    const schemas = [...new Set(definitions.filter((definition) => definition.mode !== 'best-effort').map((definition) => definition.schema))];
    for (const schema of schemas) {
      const [row] = await queryRows<{ table: string | null }>(this.database.dataSource, 'SELECT to_regclass($1)::text AS table', [`"${schema}".inbox`]);
      if (!row?.table) {
        const module = definitions.find((definition) => definition.schema === schema)?.module;
        throw new ConfigurationError(
          `module ${module} subscribes to integration events but "${schema}".inbox does not exist: add inboxMigration('${schema}') to its migrations`,
          { module, schema },
        );
      }
    }
  }

  private warnIfPoolTooSmall(durableSubscribers: number): void {
    const poolSize = (this.database.dataSource.options as { extra?: { max?: number } }).extra?.max ?? 10;
    // Each claim loop holds a connection while its subscribers each take one to handle a batch.
    const needed = this.config.relayConcurrency * (1 + durableSubscribers) + 1;
    if (poolSize < needed) {
      this.logger.warn(
        `pool of ${poolSize} connections is small for ${this.config.relayConcurrency} relay loop(s) and ${durableSubscribers} durable subscriber(s): ` +
          `use at least ${needed} (DB_POOL_SIZE) or the relay will wait for connections`,
      );
    }
  }
}

import { Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MessagingMetrics, type MessagingSample } from '@modulith/messaging/operator';
import { Counter, Gauge, Histogram } from 'prom-client';
import { transportLosses, type TransportLosses } from '../health/transport-losses';
import { findTransport } from '../health/transport-probe';
import { SubscriberCatalog } from '../subscribers/subscriber-catalog';
import { METRIC_PREFIX, MetricsRegistry } from './metrics-registry';

const SUBSCRIBER_LABELS = ['module', 'subscriber', 'event_type'] as const;

/**
 * Exports the messaging platform's figures to Prometheus: what the relay published, what each
 * subscriber handled, retried, dead-lettered or dropped and how long its calls took (from
 * `MessagingMetrics.onSample`), relay batch sizes, and what a broker transport lost (entries
 * Redis removed before a group handled them: lost, to re-drive, never counted as pending). What
 * waits (the backlog) is `BacklogExporter`'s.
 */
@Injectable()
export class MessagingExporter implements OnModuleInit, OnModuleDestroy {
  private stopSamples?: () => void;
  private readonly counters: ReturnType<MessagingExporter['createCounters']>;

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly messaging: MessagingMetrics,
    private readonly catalog: SubscriberCatalog,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {
    this.counters = this.createCounters();
  }

  onModuleInit(): void {
    const transport = this.moduleRef && findTransport(this.moduleRef);
    if (transport && transportLosses(transport)) this.exportLosses(transport.name, () => transportLosses(transport));
    this.stopSamples = this.messaging.onSample((sample) => this.observe(sample));
  }

  onModuleDestroy(): void {
    this.stopSamples?.();
  }

  private observe(sample: MessagingSample): void {
    const c = this.counters;
    if (sample.kind === 'relay-batch') {
      c.relayBatchSize.observe(sample.events);
      c.relayBatchDuration.observe(sample.durationMs / 1000);
      return;
    }
    if (sample.kind === 'relay-failed') {
      c.relayFailures.inc();
      return;
    }
    if (sample.kind === 'published') {
      c.published.inc({ module: sample.source, event_type: sample.eventType }, sample.events);
      return;
    }
    const labels = { module: this.catalog.moduleOf(sample.subscriber), subscriber: sample.subscriber, event_type: sample.eventType };
    switch (sample.kind) {
      case 'handled':
        c.handled.inc(labels, sample.events);
        c.handlerDuration.observe(labels, sample.durationMs / 1000);
        break;
      case 'failed':
        c.failures.inc(labels);
        break;
      case 'retry-scheduled':
        c.retried.inc(labels);
        break;
      case 'dead-lettered':
        c.deadLettered.inc(labels);
        break;
      case 'dropped':
        c.dropped.inc(labels, sample.events);
        break;
      case 'held':
        c.held.inc(labels, sample.events);
        break;
    }
  }

  /** Per-process totals from the transport's `stats()`, turned into counters on scrape. */
  private exportLosses(transport: string, read: () => TransportLosses | undefined): void {
    const registers = [this.registry.registry];
    const seen = { durable: 0, bestEffort: 0, unknown: 0, clashes: 0 };
    const losses = () => read() ?? { lost: 0, lostBestEffort: 0, vanished: 0, streamsOverCap: [], consumerNameClashes: 0 };
    new Counter({
      name: `${METRIC_PREFIX}transport_lost_events_total`,
      help: 'Entries the broker removed (trimmed, deleted) before a consumer group (delivery=durable) or a best-effort reader here had them: lost, not pending; re-drive durable ones from the outbox retention',
      labelNames: ['transport', 'delivery'] as const,
      registers,
      collect() {
        const now = losses();
        this.inc({ transport, delivery: 'durable' }, Math.max(0, now.lost - seen.durable));
        this.inc({ transport, delivery: 'best-effort' }, Math.max(0, now.lostBestEffort - seen.bestEffort));
        [seen.durable, seen.bestEffort] = [now.lost, now.lostBestEffort];
      },
    });
    new Counter({
      name: `${METRIC_PREFIX}transport_lost_streams_total`,
      help: 'Times a stream or consumer group vanished from the broker (it lost its data, or a key was deleted), with an unknown number of entries: re-drive',
      labelNames: ['transport'] as const,
      registers,
      collect() {
        const now = losses();
        this.inc({ transport }, Math.max(0, now.vanished - seen.unknown));
        seen.unknown = now.vanished;
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}transport_over_cap_streams`,
      help: 'Streams a lagging consumer group holds above REDIS_STREAM_MAXLEN (kept, not dropped: Redis memory grows until it catches up)',
      labelNames: ['transport'] as const,
      registers,
      collect() {
        this.set({ transport }, losses().streamsOverCap.length);
      },
    });
    new Counter({
      name: `${METRIC_PREFIX}transport_consumer_name_clashes_total`,
      help: 'Presence renewals that found another live process using this one\'s consumer name (REDIS_CONSUMER_NAME must differ per process): alert on any increase',
      labelNames: ['transport'] as const,
      registers,
      collect() {
        const now = losses().consumerNameClashes;
        this.inc({ transport }, Math.max(0, now - seen.clashes));
        seen.clashes = now;
      },
    });
  }

  private createCounters() {
    const registers = [this.registry.registry];
    return {
      published: new Counter({
        name: `${METRIC_PREFIX}events_published_total`,
        help: 'Integration events this process relayed from the outbox to the transport, by publishing module and event type',
        labelNames: ['module', 'event_type'] as const,
        registers,
      }),
      handled: new Counter({
        name: `${METRIC_PREFIX}events_handled_total`,
        help: 'Integration events handled (committed with their inbox rows), by consuming module, subscriber and event type',
        labelNames: SUBSCRIBER_LABELS,
        registers,
      }),
      handlerDuration: new Histogram({
        name: `${METRIC_PREFIX}event_handler_duration_seconds`,
        help: 'Duration of successful handler calls (a batch call counts once)',
        labelNames: SUBSCRIBER_LABELS,
        buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
      failures: new Counter({
        name: `${METRIC_PREFIX}event_handler_failures_total`,
        help: 'Failed handler attempts',
        labelNames: SUBSCRIBER_LABELS,
        registers,
      }),
      retried: new Counter({
        name: `${METRIC_PREFIX}events_retried_total`,
        help: 'Retries scheduled after a failed attempt',
        labelNames: SUBSCRIBER_LABELS,
        registers,
      }),
      deadLettered: new Counter({
        name: `${METRIC_PREFIX}events_dead_lettered_total`,
        help: 'Events moved to the dead-letter store after their last attempt',
        labelNames: SUBSCRIBER_LABELS,
        registers,
      }),
      dropped: new Counter({
        name: `${METRIC_PREFIX}events_dropped_total`,
        help: 'Events a best-effort subscriber dropped because its queue was full',
        labelNames: SUBSCRIBER_LABELS,
        registers,
      }),
      held: new Counter({
        name: `${METRIC_PREFIX}events_held_total`,
        help: 'Keyed events parked to wait for an earlier event of their ordering key (failing, or still in flight elsewhere)',
        labelNames: SUBSCRIBER_LABELS,
        registers,
      }),
      relayFailures: new Counter({
        name: `${METRIC_PREFIX}relay_failed_batches_total`,
        help: 'Relay batches rolled back because the database or the broker was away (their events stay in the outbox and are tried again)',
        registers,
      }),
      relayBatchSize: new Histogram({
        name: `${METRIC_PREFIX}relay_batch_size_events`,
        help: 'Events per relay batch (empty claims are not counted)',
        buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
        registers,
      }),
      relayBatchDuration: new Histogram({
        name: `${METRIC_PREFIX}relay_batch_duration_seconds`,
        help: 'Claim, delivery to the transport and commit of one relay batch',
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
    };
  }
}

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Gauge } from 'prom-client';
import { findTransport, isBrokerTransport } from '../health/transport-probe';
import { BacklogSampler, type BacklogSample } from './backlog-sampler';
import { METRIC_PREFIX, MetricsRegistry } from './metrics-registry';

/** Staleness note shared by the help texts: what a scrape shows is the sampler's last read. */
const SAMPLED = 'exact count from the last background read, see modulith_backlog_sample_age_seconds; NaN while that read fails';

/**
 * What waits in the outbox, the retry and dead-letter stores, the event log and the broker, as
 * gauges that a scrape reads from memory: the figures come from `BacklogSampler`'s last read
 * (exact, at most `refreshMs` plus one read old), never from a query made by the scrape.
 */
@Injectable()
export class BacklogExporter implements OnModuleInit {
  constructor(
    private readonly registry: MetricsRegistry,
    private readonly sampler: BacklogSampler,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const gauge = (name: string, help: string, read: (sample: BacklogSample) => number | null | undefined) => this.sampled(name, help, read);
    gauge('outbox_pending_events', `Committed events waiting in the outbox (${SAMPLED})`, (s) => s.backlog.outboxPending);
    // The oldest event read then has aged since: counted to now (too high by at most the sample's age if it left meanwhile).
    gauge('outbox_oldest_pending_age_seconds', `Age of the oldest event waiting in the outbox, now; 0 when it is empty (${SAMPLED})`, (s) =>
      s.backlog.oldestPendingAgeMs === null ? 0 : (s.backlog.oldestPendingAgeMs + Date.now() - s.readAt) / 1000,
    );
    gauge('retries_pending_events', `Events parked for a retry (${SAMPLED})`, (s) => s.backlog.retriesPending);
    gauge('dead_letter_events', `Events in the dead-letter store (${SAMPLED})`, (s) => s.backlog.deadLetters);
    gauge('held_events', `Parked events waiting only for an earlier event of their ordering key (${SAMPLED})`, (s) => s.backlog.heldEvents);
    gauge('held_keys', `Subscriber and ordering-key pairs held back by a parked or dead-lettered (hold) event (${SAMPLED})`, (s) => s.backlog.heldKeys);
    gauge('event_log_pending_events', `In-process transport: relayed events in the event log some durable subscriber has not read yet (${SAMPLED})`, (s) => s.backlog.logPending);
    this.exportSampleState();
    this.exportTransport();
  }

  private sampled(name: string, help: string, read: (sample: BacklogSample) => number | null | undefined, labelNames: string[] = [], labels = {}): Gauge {
    const sampler = this.sampler;
    return new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames,
      registers: [this.registry.registry],
      collect() {
        const sample = sampler.failing ? undefined : sampler.latest;
        this.set(labels, (sample && read(sample)) ?? Number.NaN);
      },
    });
  }

  private exportSampleState(): void {
    const registers = [this.registry.registry];
    const sampler = this.sampler;
    new Gauge({
      name: `${METRIC_PREFIX}backlog_sample_age_seconds`,
      help: 'Time since the last successful background read of the backlog gauges started (METRICS_BACKLOG_REFRESH_MS apart); NaN before the first',
      registers,
      collect() {
        this.set(sampler.latest ? (Date.now() - sampler.latest.readAt) / 1000 : Number.NaN);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}backlog_sample_duration_seconds`,
      help: 'How long the last successful background read of the backlog took (its count queries and broker SCAN); NaN before the first',
      registers,
      collect() {
        this.set(sampler.latest ? sampler.latest.durationMs / 1000 : Number.NaN);
      },
    });
  }

  /** Over a broker: what waits in it, from the same read; nothing for the in-process transport. */
  private exportTransport(): void {
    const transport = findTransport(this.moduleRef);
    if (!isBrokerTransport(transport)) return;
    const name = transport.name;
    if (transport.backlog) {
      this.sampled(
        'transport_backlog_events',
        `Events published to the broker but not yet handled by every consumer group (${SAMPLED} or the broker cannot be asked)`,
        (s) => s.backlog.transportPending,
        ['transport'],
        { transport: name },
      );
    }
    if (!transport.pendingByGroup) return;
    const sampler = this.sampler;
    new Gauge({
      name: `${METRIC_PREFIX}transport_pending_messages`,
      help: `Messages delivered to a consumer group and not yet acknowledged (e.g. Redis XPENDING), by group (${SAMPLED})`,
      labelNames: ['transport', 'group'] as const,
      registers: [this.registry.registry],
      collect() {
        const pending = sampler.latest?.pendingByGroup;
        // Unknown groups stay out rather than showing stale ones; the age gauge tells a failed read.
        this.reset();
        for (const [group, count] of pending ?? []) this.set({ transport: name, group }, count);
      },
    });
  }
}

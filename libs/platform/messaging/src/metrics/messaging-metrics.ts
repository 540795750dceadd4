import { Inject, Injectable, Optional } from '@nestjs/common';
import { Database } from '@modulith/database';
import { queryRows } from '../sql/query-rows';
import { TRANSPORT, type Transport } from '../transport/transport';

/** One observation, as it happens; a Prometheus exporter can feed histograms from these. */
export type MessagingSample =
  | { kind: 'handled'; subscriber: string; eventType: string; events: number; durationMs: number }
  | { kind: 'failed'; subscriber: string; eventType: string; attempt: number }
  | { kind: 'retry-scheduled'; subscriber: string; eventType: string; attempt: number; delayMs: number }
  | { kind: 'dead-lettered'; subscriber: string; eventType: string; attempts: number }
  | { kind: 'dropped'; subscriber: string; eventType: string; events: number }
  /** Keyed events parked to wait for an earlier event of their key (failing, or still in flight elsewhere). */
  | { kind: 'held'; subscriber: string; eventType: string; events: number }
  | { kind: 'relay-batch'; events: number; durationMs: number }
  /** Events of one source module and type a relay batch handed to the transport and committed. */
  | { kind: 'published'; source: string; eventType: string; events: number }
  /** A relay batch rolled back for a reason outside the events (database or broker away); `consecutive` counts the streak. */
  | { kind: 'relay-failed'; consecutive: number };

/** Running totals for one subscriber and event type. */
export interface SubscriberCounters {
  subscriber: string;
  eventType: string;
  /** Events handled (committed with their inbox rows). */
  handled: number;
  /** Handler calls and their total and longest duration (a batch call counts once). */
  calls: number;
  durationMsTotal: number;
  durationMsMax: number;
  /** Failed attempts, retries scheduled, events dead-lettered. */
  failures: number;
  retriesScheduled: number;
  deadLettered: number;
  /** Best-effort events dropped because the subscriber's queue was full. */
  dropped: number;
  /** Keyed events parked to wait for an earlier event of their key. */
  held: number;
}

export interface RelayCounters {
  batches: number;
  events: number;
  lastBatchSize: number;
  largestBatchSize: number;
  /** Batches rolled back because the database or broker was away (infrastructure retries). */
  failures: number;
}

/** State read from the database when asked: what is waiting, and for how long. */
export interface MessagingBacklog {
  outboxPending: number;
  /** Age of the oldest undelivered event, or null when the outbox is empty. */
  oldestPendingAgeMs: number | null;
  retriesPending: number;
  deadLetters: number;
  /** Of `retriesPending`: events waiting only for an earlier event of their key. */
  heldEvents: number;
  /** Subscriber and key pairs held back: a parked or dead-lettered (`hold`) event blocks later ones. */
  heldKeys: number;
  /** In-process transport: relayed events in the event log that some durable subscriber has not read yet. */
  logPending: number;
  /**
   * Broker transports only (Redis Streams): events published but not yet handled by every
   * consumer group; null when the broker cannot be asked. Absent with the in-process transport.
   */
  transportPending?: number | null;
}

/**
 * The one meaning of "drained": nothing waits in the outbox, the event log (in process), the
 * retry table or the broker (`transportPending` 0 or absent; null, "the broker cannot be asked",
 * is not drained). Dead letters do not count: they are delivered as far as they will go.
 */
export function isDrained(backlog: Pick<MessagingBacklog, 'outboxPending' | 'retriesPending' | 'transportPending'> & { logPending?: number }): boolean {
  const transportIdle = backlog.transportPending === undefined || backlog.transportPending === 0;
  return backlog.outboxPending === 0 && (backlog.logPending ?? 0) === 0 && backlog.retriesPending === 0 && transportIdle;
}

/**
 * Observability hooks of the messaging platform: in-memory counters per process (`counters`),
 * the backlog read from the database (`backlog`), and a stream of samples (`onSample`). Plain
 * values, so the metrics issue can export them without reaching into the platform.
 */
@Injectable()
export class MessagingMetrics {
  private readonly subscribers = new Map<string, SubscriberCounters>();
  private readonly relayCounters: RelayCounters = { batches: 0, events: 0, lastBatchSize: 0, largestBatchSize: 0, failures: 0 };
  private readonly listeners = new Set<(sample: MessagingSample) => void>();

  constructor(
    private readonly database: Database,
    @Optional() @Inject(TRANSPORT) private readonly transport?: Transport,
  ) {}

  /** Calls `listener` with every sample from now on; returns its removal. */
  onSample(listener: (sample: MessagingSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  counters(): { relay: RelayCounters; subscribers: SubscriberCounters[] } {
    return { relay: { ...this.relayCounters }, subscribers: [...this.subscribers.values()].map((counters) => ({ ...counters })) };
  }

  /**
   * Exact counts, for callers that must know (a drain waiting for "everything delivered", tests,
   * the admin API): `count(*)` over the outbox, retries and dead letters, a sum over the event
   * log, and over a broker a SCAN of its streams, so its cost grows with those tables and the
   * keyspace. Not for every scrape: the Prometheus gauges read it in the background, at most once
   * per `METRICS_BACKLOG_REFRESH_MS` (the observability library's `BacklogSampler`).
   */
  async backlog(): Promise<MessagingBacklog> {
    const [row] = await queryRows<{ pending: string; oldest_ms: number | null; retries: string; dead: string; held: string; held_keys: string; log_pending: string }>(
      this.database.dataSource,
      `SELECT (SELECT count(*) FROM messaging.outbox) AS pending,
              -- isfinite: a row written with occurred_at 'infinity' must not break the read
              (SELECT CASE WHEN isfinite(occurred_at) THEN (extract(epoch FROM clock_timestamp() - occurred_at) * 1000)::float8 END
                 FROM messaging.outbox ORDER BY seq LIMIT 1) AS oldest_ms,
              (SELECT count(*) FROM messaging.retries) AS retries,
              (SELECT count(*) FROM messaging.dead_letters) AS dead,
              (SELECT count(*) FROM messaging.retries WHERE held) AS held,
              (SELECT count(*) FROM (SELECT subscriber, ordering_key FROM messaging.retries WHERE ordering_key IS NOT NULL AND NOT out_of_order
                                     UNION SELECT subscriber, ordering_key FROM messaging.dead_letters WHERE holds_key) k) AS held_keys,
              (SELECT coalesce(sum(count), 0) FROM messaging.event_log
                WHERE position > coalesce((SELECT min(position) FROM messaging.log_cursors), 0)) AS log_pending`,
    );
    const backlog: MessagingBacklog = {
      outboxPending: Number(row.pending),
      oldestPendingAgeMs: row.oldest_ms === null ? null : Math.max(0, Math.round(Number(row.oldest_ms))),
      retriesPending: Number(row.retries),
      deadLetters: Number(row.dead),
      heldEvents: Number(row.held),
      heldKeys: Number(row.held_keys),
      logPending: Number(row.log_pending),
    };
    if (this.transport?.backlog) backlog.transportPending = await this.transport.backlog().catch(() => null);
    return backlog;
  }

  /** @internal */
  record(sample: MessagingSample): void {
    if (sample.kind === 'relay-batch') {
      this.relayCounters.batches += 1;
      this.relayCounters.events += sample.events;
      this.relayCounters.lastBatchSize = sample.events;
      this.relayCounters.largestBatchSize = Math.max(this.relayCounters.largestBatchSize, sample.events);
    } else if (sample.kind === 'published') {
      // Per type, for exporters; the relay totals come from 'relay-batch'.
    } else if (sample.kind === 'relay-failed') {
      this.relayCounters.failures += 1;
    } else {
      const counters = this.subscriberCounters(sample.subscriber, sample.eventType);
      switch (sample.kind) {
        case 'handled':
          counters.handled += sample.events;
          counters.calls += 1;
          counters.durationMsTotal += sample.durationMs;
          counters.durationMsMax = Math.max(counters.durationMsMax, sample.durationMs);
          break;
        case 'failed':
          counters.failures += 1;
          break;
        case 'retry-scheduled':
          counters.retriesScheduled += 1;
          break;
        case 'dead-lettered':
          counters.deadLettered += 1;
          break;
        case 'dropped':
          counters.dropped += sample.events;
          break;
        case 'held':
          counters.held += sample.events;
          break;
      }
    }
    for (const listener of this.listeners) listener(sample);
  }

  private subscriberCounters(subscriber: string, eventType: string): SubscriberCounters {
    let counters = this.subscribers.get(subscriber);
    if (!counters) {
      counters = {
        subscriber,
        eventType,
        handled: 0,
        calls: 0,
        durationMsTotal: 0,
        durationMsMax: 0,
        failures: 0,
        retriesScheduled: 0,
        deadLettered: 0,
        dropped: 0,
        held: 0,
      };
      this.subscribers.set(subscriber, counters);
    }
    return counters;
  }
}

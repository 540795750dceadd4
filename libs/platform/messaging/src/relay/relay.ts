import { Inject, Injectable, Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { EventEnvelope } from '../events/event-envelope';
import type { IntegrationEventClass } from '../events/integration-event';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { retryDelayMs } from '../retries/backoff';
import { describeFailure } from '../retries/failure';
import { IntegrationEventPublisher } from '../transport/integration-event.publisher';
import { MessagingConnections } from '../sql/messaging-connections';
import { releaseRunner } from '../sql/release-runner';
import { relayedEvent } from '../transport/relayed-events';
import { OutboxRetention } from './outbox-retention';
import { Wakeup } from './wakeup';

// `= ANY(ARRAY(...))` rather than `IN (...)`: it keeps the planner on the primary-key index
// (an ordered scan that stops after $1 rows) however large the backlog grows. There is no
// cursor: a row whose transaction commits late, with a lower id than rows already relayed,
// is simply still there at the next claim, so out-of-order commits cannot be skipped.
const CLAIM = `
  DELETE FROM messaging.outbox
   WHERE id = ANY (ARRAY(SELECT id FROM messaging.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED))
  RETURNING id, type, version, occurred_at, source, correlation_id, causation_id, payload`;

// With OUTBOX_RETENTION_HOURS set, the same claim also keeps a copy of the rows it deletes; it
// commits with the batch, so exactly the delivered rows are kept (see OutboxRetention).
const CLAIM_AND_KEEP = `
  WITH claimed AS (${CLAIM}),
       kept AS (
         INSERT INTO messaging.outbox_delivered (id, type, version, occurred_at, source, correlation_id, causation_id, payload)
         SELECT id, type, version, occurred_at, source, correlation_id, causation_id, payload FROM claimed
         ON CONFLICT (id) DO UPDATE SET delivered_at = excluded.delivered_at)
  SELECT id, type, version, occurred_at, source, correlation_id, causation_id, payload FROM claimed`;

interface OutboxRow {
  id: string;
  type: string;
  version: number;
  /** A Date, or what node-postgres makes of an instant JavaScript cannot hold ('infinity'). */
  occurred_at: Date | string | number;
  source: string;
  correlation_id: string;
  causation_id: string | null;
  payload: unknown;
}

/**
 * Moves committed outbox rows to the transport. Each batch is one transaction: claim rows
 * (locked, so other relays skip them), deliver them, delete them, commit. If the process dies
 * before the commit the rows come back and are delivered again; inboxes absorb the repeat.
 * Sleeps when the outbox is empty until a local commit, a NOTIFY or the poll interval wakes it.
 */
@Injectable()
export class Relay {
  private readonly logger = new Logger('Messaging:Relay');
  private readonly wakeup = new Wakeup();
  private readonly stopping = new Wakeup();
  private workers: Promise<void>[] = [];
  private running = false;
  private eventClasses = new Map<string, IntegrationEventClass>();

  constructor(
    private readonly connections: MessagingConnections,
    private readonly publisher: IntegrationEventPublisher,
    private readonly metrics: MessagingMetrics,
    private readonly retention: OutboxRetention,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the claim loops; `eventClasses` rebuild relayed events for the CQRS bus. */
  start(eventClasses: Map<string, IntegrationEventClass>): void {
    if (this.running) return;
    this.eventClasses = eventClasses;
    this.running = true;
    this.workers = Array.from({ length: this.config.relayConcurrency }, () => this.work());
    this.retention.start();
  }

  /** Asks the relay to look at the outbox now. */
  wake(): void {
    this.wakeup.signal();
  }

  /** Stops claiming and waits for the batches in flight to commit. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeup.signal();
    this.stopping.signal();
    await Promise.all([...this.workers, this.retention.stop()]);
    this.workers = [];
  }

  /** Claims, delivers and deletes one batch; returns the number of events it carried. */
  async relayOnce(): Promise<number> {
    const started = performance.now();
    const runner = (await this.connections.dataSource()).createQueryRunner();
    let broken: Error | undefined;
    try {
      // The relay's own transaction runs on the raw driver connection: it needs no entity
      // manager, and this saves round trips (BEGIN with SET LOCAL in one, a prepared claim).
      const client = (await runner.connect()) as PoolClient;
      // Only this commit (the delete) is asynchronous: if a server crash loses it, the rows
      // come back and are delivered again, which the inboxes absorb. Handlers' transactions
      // (inbox + effect) and parked retries keep synchronous commits. Saves a WAL flush per batch.
      // The claim waits, idle, while subscribers run (each bounded by its handler timeout), so
      // the pool's idle-in-transaction bound is lifted for it alone.
      await client.query('BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL idle_in_transaction_session_timeout = 0');
      try {
        const claim = this.retention.enabled ? { name: 'modulith-relay-claim-keep', text: CLAIM_AND_KEEP } : { name: 'modulith-relay-claim', text: CLAIM };
        const { rows } = await client.query<OutboxRow>({ ...claim, values: [this.config.relayBatchSize] });
        const envelopes = rows.map(toEnvelope).sort(byId);
        if (envelopes.length > 0) await this.publish(envelopes);
        await client.query('COMMIT');
        if (envelopes.length > 0) this.recordPublished(envelopes, performance.now() - started);
        return rows.length;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      }
    } finally {
      // A connection that could not roll back is destroyed, never handed to the next claim.
      await releaseRunner(runner, broken);
    }
  }

  private recordPublished(envelopes: readonly EventEnvelope[], durationMs: number): void {
    this.metrics.record({ kind: 'relay-batch', events: envelopes.length, durationMs });
    const counts = new Map<string, { source: string; eventType: string; events: number }>();
    for (const { source, type } of envelopes) {
      const key = `${source}\u0000${type}`;
      const entry = counts.get(key) ?? { source, eventType: type, events: 0 };
      entry.events += 1;
      counts.set(key, entry);
    }
    for (const entry of counts.values()) this.metrics.record({ kind: 'published', ...entry });
  }

  private publish(envelopes: EventEnvelope[]): Promise<void> {
    return this.publisher.relay(envelopes.map((envelope) => relayedEvent(envelope, this.eventClasses.get(envelope.type))));
  }

  private async work(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let claimed: number;
      try {
        claimed = await this.relayOnce();
        failures = 0;
      } catch (error) {
        failures += 1;
        const delayMs = retryDelayMs(failures, { baseDelayMs: 100, maxDelayMs: Math.max(100, this.config.relayPollIntervalMs) });
        this.metrics.record({ kind: 'relay-failed', consecutive: failures });
        // Every failure while they are few, then one line in 20: an outage is visible, not a flood.
        if (failures <= 3 || failures % 20 === 0) {
          this.logger.error(`relay batch failed (${failures} in a row), its events stay in the outbox; next try in ${delayMs} ms: ${describeFailure(error).message}`);
        }
        await this.stopping.sleep(delayMs);
        continue;
      }
      if (claimed < this.config.relayBatchSize && this.running) await this.wakeup.sleep(this.config.relayPollIntervalMs);
    }
  }
}

function toEnvelope(row: OutboxRow): EventEnvelope {
  return {
    id: row.id,
    type: row.type,
    version: row.version,
    occurredAt: isoInstant(row.occurred_at),
    source: row.source,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    payload: row.payload,
  };
}

/**
 * The instant as ISO 8601. What the outbox holds but JavaScript cannot represent ('infinity', a
 * year past 275760, written by an older producer or by hand) is passed on as PostgreSQL wrote it:
 * the relay must never fail on a row, or that row would block every event behind it. A
 * subscriber that cannot use it fails on that event alone (retried, then dead-lettered).
 */
function isoInstant(value: unknown): string {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : String(value);
}

function byId(left: EventEnvelope, right: EventEnvelope): number {
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}

import { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { EntityManager } from 'typeorm';
import type { Database } from '@modulith/database';
import type { EventEnvelope } from '../events/event-envelope';
import type { MessagingConfig } from '../messaging.config';
import type { MessagingMetrics } from '../metrics/messaging-metrics';
import { retryDelayMs } from '../retries/backoff';
import { describeFailure, isInfrastructureFailure } from '../retries/failure';
import type { ParkedEvent, RetryStore } from '../retries/retry-store';
import type { Queryable } from '../sql/query-rows';
import type { TransportSubscription } from '../transport/transport';
import { invokeSubscriber, type SubscriberDefinition } from './subscriber-definition';

export interface DurableSubscriberDeps {
  database: Database;
  retries: RetryStore;
  metrics: MessagingMetrics;
  config: MessagingConfig;
  /** Told when a retry was scheduled `delayMs` from now, so the retry poller can wake in time. */
  retryScheduled(delayMs: number): void;
}

type Attempt = { ok: true } | { ok: false; error: unknown };

/**
 * Runs one durable subscriber: each batch in one transaction that first records the events in
 * the module's inbox (those already there are skipped) and then lets the handler write its
 * effect, so effect and inbox rows commit together. A failing batch is split in halves until
 * the failing events are alone; those are parked for retry (or dead-lettered) and the rest go on.
 */
export class DurableSubscriber implements TransportSubscription {
  readonly mode = 'durable';
  readonly subscriber: string;
  readonly group: string;
  readonly eventTypes: readonly string[];
  readonly maxBatch: number;
  private readonly logger: Logger;
  private readonly claimInbox: string;
  private readonly inboxStatement: string;

  constructor(
    readonly definition: SubscriberDefinition,
    private readonly deps: DurableSubscriberDeps,
  ) {
    this.subscriber = definition.subscriber;
    this.group = definition.module;
    this.eventTypes = [definition.eventClass.type];
    this.maxBatch = definition.batch;
    this.logger = new Logger(`Messaging:${definition.subscriber}`);
    this.claimInbox = `INSERT INTO "${definition.schema}".inbox (subscriber, event_id)
                       SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id`;
    this.inboxStatement = `modulith-inbox-${definition.schema}`;
  }

  async deliver(envelopes: readonly EventEnvelope[]): Promise<void> {
    for (let start = 0; start < envelopes.length; start += this.maxBatch) {
      await this.deliverChunk(envelopes.slice(start, start + this.maxBatch));
    }
  }

  /** Makes one more attempt at a parked event; the retry row is updated through `tx`. */
  async retry(tx: Queryable, parked: ParkedEvent): Promise<void> {
    const outcome = await this.attempt([parked.envelope]);
    if (outcome.ok) await this.deps.retries.remove(tx, this.subscriber, parked.envelope.id);
    else await this.recordFailure(tx, parked.envelope, outcome.error, parked.attempts + 1, true);
  }

  private async deliverChunk(chunk: readonly EventEnvelope[]): Promise<void> {
    const outcome = await this.attempt(chunk);
    if (outcome.ok) return;
    if (chunk.length === 1) {
      await this.recordFailure(this.deps.database.dataSource, chunk[0], outcome.error, 1, false);
      return;
    }
    const middle = Math.ceil(chunk.length / 2);
    await this.deliverChunk(chunk.slice(0, middle));
    await this.deliverChunk(chunk.slice(middle));
  }

  /** One transaction: inbox rows, handler, commit. Database outages are thrown, not counted. */
  private async attempt(chunk: readonly EventEnvelope[]): Promise<Attempt> {
    let handled = 0;
    let durationMs = 0;
    try {
      await this.deps.database.transaction(async (manager) => {
        const fresh = await this.recordInInbox(manager, chunk);
        if (fresh.length === 0) return;
        const ids = new Set(fresh.map((row) => row.event_id));
        const todo = fresh.length === chunk.length ? chunk : chunk.filter((envelope) => ids.has(envelope.id.toLowerCase()));
        const started = performance.now();
        await invokeSubscriber(this.definition, todo, manager);
        durationMs = performance.now() - started;
        handled = todo.length;
      });
    } catch (error) {
      if (isInfrastructureFailure(error)) throw error;
      return { ok: false, error };
    }
    if (handled > 0) {
      this.deps.metrics.record({ kind: 'handled', subscriber: this.subscriber, eventType: this.eventTypes[0], events: handled, durationMs });
    }
    return { ok: true };
  }

  /** Inserts the chunk's ids into the inbox; returns the rows that were not there yet. */
  private async recordInInbox(manager: EntityManager, chunk: readonly EventEnvelope[]): Promise<{ event_id: string }[]> {
    // A named statement on the transaction's own connection: parsed and planned once per connection.
    const client = (await manager.queryRunner?.connect()) as PoolClient;
    const result = await client.query<{ event_id: string }>({
      name: this.inboxStatement,
      text: this.claimInbox,
      values: [this.subscriber, chunk.map((envelope) => envelope.id)],
    });
    return result.rows;
  }

  private async recordFailure(on: Queryable, envelope: EventEnvelope, error: unknown, attempts: number, parked: boolean): Promise<void> {
    const maxAttempts = this.deps.config.handlerMaxAttempts;
    const eventType = envelope.type;
    const failure = describeFailure(error);
    const where = `event ${envelope.id} (${eventType}) [correlation ${envelope.correlationId}]`;
    this.deps.metrics.record({ kind: 'failed', subscriber: this.subscriber, eventType, attempt: attempts });
    if (attempts >= maxAttempts) {
      await this.deps.retries.deadLetter(on, this.subscriber, envelope, failure, attempts);
      this.deps.metrics.record({ kind: 'dead-lettered', subscriber: this.subscriber, eventType, attempts });
      this.logger.error(`${where} failed attempt ${attempts}/${maxAttempts}, moved to dead letters: ${failure.message}`, failure.stack ?? undefined);
      return;
    }
    const delayMs = retryDelayMs(attempts, { baseDelayMs: this.deps.config.retryBaseDelayMs, maxDelayMs: this.deps.config.retryMaxDelayMs });
    if (parked) await this.deps.retries.reschedule(on, this.subscriber, envelope.id, failure, attempts, delayMs);
    else await this.deps.retries.park(on, this.subscriber, envelope, failure, attempts, delayMs);
    this.deps.metrics.record({ kind: 'retry-scheduled', subscriber: this.subscriber, eventType, attempt: attempts, delayMs });
    this.logger.warn(`${where} failed attempt ${attempts}/${maxAttempts}, retrying in ${delayMs} ms: ${failure.message}`);
    this.deps.retryScheduled(delayMs);
  }
}

import { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '../events/event-envelope';
import type { MessagingConfig } from '../messaging.config';
import type { MessagingMetrics } from '../metrics/messaging-metrics';
import { retryDelayMs } from '../retries/backoff';
import { describeFailure, isInfrastructureFailure, type FailureDescription } from '../retries/failure';
import type { ParkedEvent, RetryStore } from '../retries/retry-store';
import type { OutboxSignals } from '../outbox/outbox-signals';
import type { MessagingConnections } from '../sql/messaging-connections';
import type { TransportSubscription } from '../transport/transport';
import { invokeSubscriber, type SubscriberDefinition } from './subscriber-definition';
import { runSubscriberTransaction } from './subscriber-transaction';

export interface DurableSubscriberDeps {
  connections: MessagingConnections;
  /** Told when a handler's transaction committed, so events it appended are relayed at once. */
  signals: OutboxSignals;
  retries: RetryStore;
  metrics: MessagingMetrics;
  config: MessagingConfig;
  /** Told when a retry was scheduled `delayMs` from now, so the retry poller can wake in time. */
  retryScheduled(delayMs: number): void;
}

type Attempt = { ok: true } | { ok: false; error: unknown; timedOut?: boolean };

/**
 * Runs one durable subscriber: each batch in one transaction that first records the events in
 * the module's inbox (those already there are skipped) and then lets the handler write its
 * effect, so effect and inbox rows commit together. A failing batch is split in halves until
 * the failing events are alone; those are parked for retry (or dead-lettered) and the rest go on.
 * A batch that timed out is not split (each half could hang as long): its events are parked.
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
  /** Longest a handler call may take (its `{ timeoutMs }`, else `HANDLER_TIMEOUT_MS`). */
  readonly timeoutMs: number;

  constructor(
    readonly definition: SubscriberDefinition,
    private readonly deps: DurableSubscriberDeps,
  ) {
    this.subscriber = definition.subscriber;
    this.group = definition.module;
    this.eventTypes = [definition.eventClass.type];
    this.maxBatch = definition.batch;
    this.timeoutMs = definition.timeoutMs ?? deps.config.handlerTimeoutMs;
    this.logger = new Logger(`Messaging:${definition.subscriber}`);
    this.claimInbox = `INSERT INTO "${definition.schema}".inbox (subscriber, event_id)
                       SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id`;
    this.inboxStatement = `modulith-inbox-${definition.schema}`;
  }

  /**
   * Handles `envelopes` (any number of copies of an event count as one: a re-drive, a relay that
   * published and then rolled back, a reclaimed Redis entry). Resolves once each event is handled,
   * parked or dead-lettered; rejects with `InfrastructureFailure` when the database is away.
   */
  async deliver(envelopes: readonly EventEnvelope[]): Promise<void> {
    const unique = distinctById(envelopes);
    for (let start = 0; start < unique.length; start += this.maxBatch) {
      await this.deliverChunk(unique.slice(start, start + this.maxBatch));
    }
  }

  /** Makes one more attempt at a parked event; the outcome is recorded in its retry row. */
  async retry(parked: ParkedEvent): Promise<void> {
    const outcome = await this.attempt([parked.envelope]);
    const dataSource = await this.deps.connections.dataSource();
    if (outcome.ok) await this.deps.retries.remove(dataSource, this.subscriber, parked.envelope.id);
    else await this.recordFailure(parked.envelope, outcome.error, parked.attempts + 1, true);
  }

  private async deliverChunk(chunk: readonly EventEnvelope[]): Promise<void> {
    const outcome = await this.attempt(chunk);
    if (outcome.ok) return;
    if (chunk.length === 1 || outcome.timedOut) {
      for (const envelope of chunk) await this.recordFailure(envelope, outcome.error, 1, false);
      return;
    }
    const middle = Math.ceil(chunk.length / 2);
    await this.deliverChunk(chunk.slice(0, middle));
    await this.deliverChunk(chunk.slice(middle));
  }

  /** One transaction: inbox rows, handler, commit. Database outages are thrown, not counted. */
  private async attempt(chunk: readonly EventEnvelope[]): Promise<Attempt> {
    let durationMs = 0;
    const outcome = await runSubscriberTransaction(await this.deps.connections.dataSource(), {
      subscriber: this.subscriber,
      timeoutMs: this.timeoutMs,
      prepare: (_manager, client) => this.recordInInbox(client, chunk),
      committed: (runner) => this.deps.signals.committed(runner),
      handle: async (todo, manager: EntityManager) => {
        if (todo.length === 0) return 0;
        const started = performance.now();
        await invokeSubscriber(this.definition, todo, manager);
        durationMs = performance.now() - started;
        return todo.length;
      },
    });
    if (!outcome.ok) return outcome;
    if (outcome.value > 0) {
      this.deps.metrics.record({ kind: 'handled', subscriber: this.subscriber, eventType: this.eventTypes[0], events: outcome.value, durationMs });
    }
    return { ok: true };
  }

  /** Inserts the chunk's ids into the inbox; returns the envelopes that were not there yet. */
  private async recordInInbox(client: PoolClient, chunk: readonly EventEnvelope[]): Promise<readonly EventEnvelope[]> {
    // A named statement on the transaction's own connection: parsed and planned once per connection.
    const { rows } = await client.query<{ event_id: string }>({
      name: this.inboxStatement,
      text: this.claimInbox,
      values: [this.subscriber, chunk.map((envelope) => envelope.id)],
    });
    if (rows.length === chunk.length) return chunk;
    const fresh = new Set(rows.map((row) => row.event_id));
    return chunk.filter((envelope) => fresh.has(envelope.id.toLowerCase()));
  }

  /**
   * Parks the event for another attempt, or dead-letters it after the last one. If the store
   * refuses the event as it is (anything but a lost connection), it is dead-lettered with what is
   * known rather than left in the hot path, where it would be delivered and refused for ever.
   */
  private async recordFailure(envelope: EventEnvelope, error: unknown, attempts: number, parked: boolean): Promise<void> {
    const failure = describeFailure(error);
    this.deps.metrics.record({ kind: 'failed', subscriber: this.subscriber, eventType: envelope.type, attempt: attempts });
    try {
      await this.park(envelope, failure, attempts, parked);
    } catch (storeError) {
      if (isInfrastructureFailure(storeError)) throw storeError;
      const cause = describeFailure(storeError);
      await this.deps.retries.deadLetterUnstorable(await this.deps.connections.dataSource(), this.subscriber, envelope, failure, cause, attempts);
      this.deps.metrics.record({ kind: 'dead-lettered', subscriber: this.subscriber, eventType: envelope.type, attempts });
      this.logger.error(`${this.where(envelope)} could not be parked (${cause.message}): moved to dead letters with its payload as text`);
    }
  }

  private async park(envelope: EventEnvelope, failure: FailureDescription, attempts: number, parked: boolean): Promise<void> {
    const on = await this.deps.connections.dataSource();
    const maxAttempts = this.deps.config.handlerMaxAttempts;
    const eventType = envelope.type;
    if (attempts >= maxAttempts) {
      await this.deps.retries.deadLetter(on, this.subscriber, envelope, failure, attempts);
      this.deps.metrics.record({ kind: 'dead-lettered', subscriber: this.subscriber, eventType, attempts });
      this.logger.error(`${this.where(envelope)} failed attempt ${attempts}/${maxAttempts}, moved to dead letters: ${failure.message}`, failure.stack ?? undefined);
      return;
    }
    const delayMs = retryDelayMs(attempts, { baseDelayMs: this.deps.config.retryBaseDelayMs, maxDelayMs: this.deps.config.retryMaxDelayMs });
    if (parked) await this.deps.retries.reschedule(on, this.subscriber, envelope, failure, attempts, delayMs);
    else await this.deps.retries.park(on, this.subscriber, envelope, failure, attempts, delayMs);
    this.deps.metrics.record({ kind: 'retry-scheduled', subscriber: this.subscriber, eventType, attempt: attempts, delayMs });
    this.logger.warn(`${this.where(envelope)} failed attempt ${attempts}/${maxAttempts}, retrying in ${delayMs} ms: ${failure.message}`);
    this.deps.retryScheduled(delayMs);
  }

  private where(envelope: EventEnvelope): string {
    return `event ${envelope.id} (${envelope.type}) [correlation ${envelope.correlationId}]`;
  }
}

/** The first copy of each event id (ids compare case-insensitively, as the inbox's uuid does). */
function distinctById(envelopes: readonly EventEnvelope[]): readonly EventEnvelope[] {
  const seen = new Set<string>();
  const distinct = envelopes.filter((envelope) => {
    const id = envelope.id.toLowerCase();
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return distinct.length === envelopes.length ? envelopes : distinct;
}

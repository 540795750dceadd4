import { Injectable } from '@nestjs/common';
import { uuidv7 } from '@modulith/core';
import type { EventEnvelope } from '../events/event-envelope';
import { queryRows, type Queryable } from '../sql/query-rows';
import type { FailureDescription } from './failure';

/** An event waiting for another attempt by one subscriber. */
export interface ParkedEvent {
  subscriber: string;
  envelope: EventEnvelope;
  /** Attempts made so far, all failed. */
  attempts: number;
}

/**
 * The `messaging.retries` and `messaging.dead_letters` tables. A failed event is parked per
 * subscriber, so that subscriber can fall behind on it while the outbox row is deleted and
 * every other subscriber moves on.
 */
@Injectable()
export class RetryStore {
  /** Parks an event after its first failed delivery; a row left by an earlier crash wins. */
  async park(on: Queryable, subscriber: string, envelope: EventEnvelope, failure: FailureDescription, attempts: number, delayMs: number): Promise<void> {
    await queryRows(
      on,
      `INSERT INTO messaging.retries (subscriber, event_id, event_type, envelope, attempts, next_attempt_at, last_error, last_stack)
       VALUES ($1, $2, $3, $4, $5, clock_timestamp() + $6 * interval '1 millisecond', $7, $8)
       ON CONFLICT (subscriber, event_id) DO NOTHING`,
      [subscriber, envelope.id, envelope.type, JSON.stringify(envelope), attempts, delayMs, failure.message, failure.stack],
    );
  }

  async reschedule(on: Queryable, subscriber: string, envelope: EventEnvelope, failure: FailureDescription, attempts: number, delayMs: number): Promise<void> {
    await queryRows(
      on,
      `UPDATE messaging.retries
          SET attempts = $3, next_attempt_at = clock_timestamp() + $4 * interval '1 millisecond', last_error = $5, last_stack = $6
        WHERE subscriber = $1 AND event_id = $2`,
      [subscriber, envelope.id, attempts, delayMs, failure.message, failure.stack],
    );
  }

  /** Moves an event to the dead-letter store, out of the retry table if it was there. */
  async deadLetter(on: Queryable, subscriber: string, envelope: EventEnvelope, failure: FailureDescription, attempts: number): Promise<void> {
    await queryRows(
      on,
      `WITH parked AS (DELETE FROM messaging.retries WHERE subscriber = $2 AND event_id = $3)
       INSERT INTO messaging.dead_letters (id, subscriber, event_id, event_type, envelope, error, stack, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (subscriber, event_id) DO UPDATE
         SET error = EXCLUDED.error, stack = EXCLUDED.stack, attempts = EXCLUDED.attempts, failed_at = now()`,
      [uuidv7(), subscriber, envelope.id, envelope.type, JSON.stringify(envelope), failure.message, failure.stack, attempts],
    );
  }

  async remove(on: Queryable, subscriber: string, eventId: string): Promise<void> {
    await queryRows(on, 'DELETE FROM messaging.retries WHERE subscriber = $1 AND event_id = $2', [subscriber, eventId]);
  }

  /**
   * Leases due retries of the given subscribers for `leaseMs`: their next attempt moves that far
   * ahead, in one short statement, so other pollers leave them alone while this one works and no
   * transaction stays open across a handler. The attempt's outcome (remove, reschedule, dead
   * letter) overwrites the lease; if this process dies first, the lease runs out and another
   * poller tries again (the inbox makes that harmless if the handler had committed).
   */
  async leaseDue(on: Queryable, subscribers: readonly string[], limit: number, leaseMs: number): Promise<ParkedEvent[]> {
    return queryRows<{ subscriber: string; envelope: EventEnvelope; attempts: number }>(
      on,
      `UPDATE messaging.retries r
          SET next_attempt_at = clock_timestamp() + $3 * interval '1 millisecond'
         FROM (SELECT subscriber, event_id FROM messaging.retries
                WHERE subscriber = ANY($1) AND next_attempt_at <= clock_timestamp()
                ORDER BY next_attempt_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED) due
        WHERE r.subscriber = due.subscriber AND r.event_id = due.event_id
        RETURNING r.subscriber, r.envelope, r.attempts`,
      [subscribers, limit, leaseMs],
    );
  }

  /**
   * Dead-letters an event whose envelope could not be parked or dead-lettered as it is (an older
   * producer wrote what the retry tables refuse): the payload is kept as its JSON text, which
   * any column takes, and the error says why. The event leaves the hot path either way.
   */
  async deadLetterUnstorable(on: Queryable, subscriber: string, envelope: EventEnvelope, failure: FailureDescription, storeError: FailureDescription, attempts: number): Promise<void> {
    const kept = { ...envelope, payload: null, payloadText: JSON.stringify(envelope.payload) };
    const message = `${failure.message} — and the event could not be parked as it is (${storeError.message}); its payload is kept as text in payloadText`;
    await this.deadLetter(on, subscriber, kept, { message, stack: failure.stack }, attempts);
  }

  /** Milliseconds until the next retry of these subscribers is due (0 if overdue), or null. */
  async msUntilNextDue(on: Queryable, subscribers: readonly string[]): Promise<number | null> {
    const [row] = await queryRows<{ ms: number | null }>(
      on,
      `SELECT (extract(epoch FROM min(next_attempt_at) - clock_timestamp()) * 1000)::float8 AS ms
         FROM messaging.retries WHERE subscriber = ANY($1)`,
      [subscribers],
    );
    return row?.ms === null || row?.ms === undefined ? null : Math.max(0, Math.ceil(Number(row.ms)));
  }
}

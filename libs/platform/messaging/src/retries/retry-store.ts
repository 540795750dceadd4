import { Injectable } from '@nestjs/common';
import { uuidv7 } from '@modulith/core';
import type { EventEnvelope } from '../events/event-envelope';
import { queryRows, type Queryable } from '../sql/query-rows';
import type { FailureDescription } from './failure';

/** Time a lease adds for recording an attempt's outcome after the handler's own bound. */
export const LEASE_MARGIN_MS = 5000;

/** An event waiting for another attempt by one subscriber. */
export interface ParkedEvent {
  subscriber: string;
  envelope: EventEnvelope;
  /** Attempts made so far, all failed (0 for an event only held behind an earlier one of its key). */
  attempts: number;
  /** A dead letter re-driven after its key had moved on: applied late, outside the key's order. */
  outOfOrder?: boolean;
}

/** What a dead-lettered keyed event does to later events of its key, for one subscriber. */
export type DeadLetteredKeyRule = 'hold' | 'release';

// A parked row may be attempted when it is unordered, re-driven out of order, or the next (or an
// already handled) event of its key for its subscriber: each key's events leave in order.
const IS_HEAD = `(r.ordering_key IS NULL OR r.out_of_order
   OR r.key_seq <= coalesce((SELECT p.seq FROM messaging.key_progress p WHERE p.subscriber = r.subscriber AND p.ordering_key = r.ordering_key), 0) + 1)`;

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
      `INSERT INTO messaging.retries (subscriber, event_id, event_type, envelope, attempts, next_attempt_at, last_error, last_stack, ordering_key, key_seq)
       VALUES ($1, $2, $3, $4, $5, clock_timestamp() + $6 * interval '1 millisecond', $7, $8, $9, $10)
       ON CONFLICT (subscriber, event_id) DO NOTHING`,
      [subscriber, envelope.id, envelope.type, JSON.stringify(envelope), attempts, delayMs, failure.message, failure.stack, envelope.orderingKey ?? null, envelope.keySeq ?? null],
    );
  }

  /**
   * Parks keyed events that arrived before an earlier event of their key was handled (it failed,
   * or another replica is still on it): due at once, attempted as soon as they are next.
   */
  async hold(on: Queryable, subscriber: string, envelopes: readonly EventEnvelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    await queryRows(
      on,
      `INSERT INTO messaging.retries (subscriber, event_id, event_type, envelope, attempts, next_attempt_at, last_error, ordering_key, key_seq, held)
       SELECT $1, e.id, e.type, e.envelope, 0, clock_timestamp(), 'held behind an earlier event of its ordering key', e.ordering_key, e.key_seq, true
         FROM unnest($2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::bigint[]) AS e(id, type, envelope, ordering_key, key_seq)
       ON CONFLICT (subscriber, event_id) DO NOTHING`,
      [
        subscriber,
        envelopes.map((envelope) => envelope.id),
        envelopes.map((envelope) => envelope.type),
        envelopes.map((envelope) => JSON.stringify(envelope)),
        envelopes.map((envelope) => envelope.orderingKey ?? null),
        envelopes.map((envelope) => envelope.keySeq ?? null),
      ],
    );
  }

  async reschedule(on: Queryable, subscriber: string, envelope: EventEnvelope, failure: FailureDescription, attempts: number, delayMs: number): Promise<void> {
    await queryRows(
      on,
      `UPDATE messaging.retries
          SET attempts = $3, next_attempt_at = clock_timestamp() + $4 * interval '1 millisecond', last_error = $5, last_stack = $6, held = false
        WHERE subscriber = $1 AND event_id = $2`,
      [subscriber, envelope.id, attempts, delayMs, failure.message, failure.stack],
    );
  }

  /**
   * Moves an event to the dead-letter store, out of the retry table if it was there. A keyed
   * event either keeps holding its key (`hold`: later events of the key wait until it is
   * re-driven) or releases it (`release`: the key's progress moves past it, in the same
   * statement, and it is applied out of order if it is ever re-driven).
   */
  async deadLetter(on: Queryable, subscriber: string, envelope: EventEnvelope, failure: FailureDescription, attempts: number, keyRule: DeadLetteredKeyRule = 'hold'): Promise<void> {
    const key = envelope.orderingKey ?? null;
    const seq = envelope.keySeq ?? null;
    await queryRows(
      on,
      `WITH parked AS (DELETE FROM messaging.retries WHERE subscriber = $2 AND event_id = $3),
            released AS (
              INSERT INTO messaging.key_progress (subscriber, ordering_key, seq)
              SELECT $2, $9, $10 WHERE $9::text IS NOT NULL AND NOT $11::boolean
              ON CONFLICT (subscriber, ordering_key) DO UPDATE SET seq = greatest(key_progress.seq, excluded.seq))
       INSERT INTO messaging.dead_letters (id, subscriber, event_id, event_type, envelope, error, stack, attempts, ordering_key, key_seq, holds_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9::text IS NOT NULL AND $11::boolean)
       ON CONFLICT (subscriber, event_id) DO UPDATE
         SET error = EXCLUDED.error, stack = EXCLUDED.stack, attempts = EXCLUDED.attempts, failed_at = now(), holds_key = EXCLUDED.holds_key`,
      [uuidv7(), subscriber, envelope.id, envelope.type, JSON.stringify(envelope), failure.message, failure.stack, attempts, key, seq, keyRule === 'hold'],
    );
  }

  /** Gives back the lease of events that turned out not to be next yet: attempted again once they are. */
  async requeueHeld(on: Queryable, subscriber: string, eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await queryRows(on, 'UPDATE messaging.retries SET next_attempt_at = clock_timestamp(), held = true WHERE subscriber = $1 AND event_id = ANY($2::uuid[])', [
      subscriber,
      eventIds,
    ]);
  }

  async remove(on: Queryable, subscriber: string, eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await queryRows(on, 'DELETE FROM messaging.retries WHERE subscriber = $1 AND event_id = ANY($2::uuid[])', [subscriber, eventIds]);
  }

  /**
   * Leases, for `leaseMs`, up to `limit` events held behind an earlier event of their key, of
   * those `keys` whose next event (one past the subscriber's progress) is itself a held event
   * due now: the runs a key that just moved on can release, nearest its progress first across
   * keys. A key whose next event is elsewhere (in flight, parked after a failure, leased by a
   * poller) gives none. Rows locked by another lease are skipped.
   */
  async leaseHeldRuns(on: Queryable, subscriber: string, keys: readonly string[], limit: number, leaseMs: number): Promise<ParkedEvent[]> {
    if (keys.length === 0) return [];
    const rows = await queryRows<{ envelope: EventEnvelope; attempts: number }>(
      on,
      `WITH progress AS (
         SELECT k.key, coalesce(p.seq, 0) AS seq
           FROM unnest($2::text[]) AS k(key)
           LEFT JOIN messaging.key_progress p ON p.subscriber = $1 AND p.ordering_key = k.key),
       releasable AS (
         SELECT pr.key, pr.seq FROM progress pr
          WHERE EXISTS (SELECT 1 FROM messaging.retries n
                         WHERE n.subscriber = $1 AND n.ordering_key = pr.key AND n.key_seq = pr.seq + 1
                           AND n.held AND n.next_attempt_at <= clock_timestamp())),
       due AS (
         SELECT r.subscriber, r.event_id FROM messaging.retries r JOIN releasable k ON r.ordering_key = k.key
          WHERE r.subscriber = $1 AND r.held AND r.key_seq > k.seq AND r.next_attempt_at <= clock_timestamp()
          ORDER BY r.key_seq - k.seq, r.ordering_key
          LIMIT $3
          FOR UPDATE OF r SKIP LOCKED)
       UPDATE messaging.retries t SET next_attempt_at = clock_timestamp() + $4 * interval '1 millisecond'
         FROM due WHERE t.subscriber = due.subscriber AND t.event_id = due.event_id
       RETURNING t.envelope, t.attempts`,
      [subscriber, keys, limit, leaseMs],
    );
    return rows.map((row) => ({ subscriber, envelope: row.envelope, attempts: row.attempts }));
  }

  /**
   * Leases due retries of the given subscribers for `leaseMs`: their next attempt moves that far
   * ahead, in one short statement, so other pollers leave them alone while this one works and no
   * transaction stays open across a handler. The attempt's outcome (remove, reschedule, dead
   * letter) overwrites the lease; if this process dies first, the lease runs out and another
   * poller tries again (the inbox makes that harmless if the handler had committed).
   */
  async leaseDue(on: Queryable, subscribers: readonly string[], limit: number, leaseMs: number): Promise<ParkedEvent[]> {
    const rows = await queryRows<{ subscriber: string; envelope: EventEnvelope; attempts: number; out_of_order: boolean }>(
      on,
      `UPDATE messaging.retries t
          SET next_attempt_at = clock_timestamp() + $3 * interval '1 millisecond'
         FROM (SELECT subscriber, event_id FROM messaging.retries r
                WHERE r.subscriber = ANY($1) AND r.next_attempt_at <= clock_timestamp() AND ${IS_HEAD}
                ORDER BY r.next_attempt_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED) due
        WHERE t.subscriber = due.subscriber AND t.event_id = due.event_id
        RETURNING t.subscriber, t.envelope, t.attempts, t.out_of_order`,
      [subscribers, limit, leaseMs],
    );
    return rows.map((row) => ({ subscriber: row.subscriber, envelope: row.envelope, attempts: row.attempts, ...(row.out_of_order ? { outOfOrder: true } : {}) }));
  }

  /**
   * Dead-letters an event whose envelope could not be parked or dead-lettered as it is (an older
   * producer wrote what the retry tables refuse): the payload is kept as its JSON text, which
   * any column takes, and the error says why. The event leaves the hot path either way.
   */
  async deadLetterUnstorable(
    on: Queryable,
    subscriber: string,
    envelope: EventEnvelope,
    failure: FailureDescription,
    storeError: FailureDescription,
    attempts: number,
    keyRule: DeadLetteredKeyRule = 'hold',
  ): Promise<void> {
    const kept = { ...envelope, payload: null, payloadText: JSON.stringify(envelope.payload) };
    const message = `${failure.message} — and the event could not be parked as it is (${storeError.message}); its payload is kept as text in payloadText`;
    await this.deadLetter(on, subscriber, kept, { message, stack: failure.stack }, attempts, keyRule);
  }

  /**
   * Milliseconds until the next retry of these subscribers is due (0 if overdue), or null.
   * Events held behind an earlier one of their key count only once they are next.
   */
  async msUntilNextDue(on: Queryable, subscribers: readonly string[]): Promise<number | null> {
    const [row] = await queryRows<{ ms: number | null }>(
      on,
      `SELECT (extract(epoch FROM min(r.next_attempt_at) - clock_timestamp()) * 1000)::float8 AS ms
         FROM messaging.retries r WHERE r.subscriber = ANY($1) AND ${IS_HEAD}`,
      [subscribers],
    );
    return row?.ms === null || row?.ms === undefined ? null : Math.max(0, Math.ceil(Number(row.ms)));
  }
}

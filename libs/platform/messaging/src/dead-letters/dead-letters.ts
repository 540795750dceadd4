import { Inject, Injectable, Optional } from '@nestjs/common';
import { NotFoundError, ValidationError } from '@modulith/core';
import { Database } from '@modulith/database';
import type { EventEnvelope } from '../events/event-envelope';
import { RetryPoller } from '../retries/retry-poller';
import { queryRows } from '../sql/query-rows';

/** An event a subscriber gave up on, with why and how often it failed. */
export interface DeadLetter {
  id: string;
  subscriber: string;
  eventId: string;
  eventType: string;
  error: string;
  stack: string | null;
  attempts: number;
  failedAt: string;
  envelope: EventEnvelope;
}

export interface DeadLetterQuery {
  /** Only this subscriber's dead letters. */
  subscriber?: string;
  /** Page size, 1–1000 (default 100). */
  limit?: number;
  /** Cursor: return dead letters older than this id (the last id of the previous page). */
  before?: string;
}

/** A dead letter handed back to its subscriber. */
export interface ReplayedDeadLetter {
  subscriber: string;
  eventId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface DeadLetterRow {
  id: string;
  subscriber: string;
  event_id: string;
  event_type: string;
  error: string;
  stack: string | null;
  attempts: number;
  failed_at: Date;
  envelope: EventEnvelope;
}

// Replaying moves the row back to the retry table with a fresh attempt budget, due now. The
// subscriber's retry poller (in whichever instance hosts it) runs it through the inbox, so a
// replay applies at most once even if the event had been handled meanwhile. A keyed event that
// still holds its key is the key's next event again, so the events held behind it follow it in
// order; one whose key was released when it was dead-lettered is applied late, out of order.
const REPLAY = (where: string): string => `
  WITH moved AS (DELETE FROM messaging.dead_letters WHERE ${where}
                 RETURNING subscriber, event_id, event_type, envelope, error, stack, ordering_key, key_seq, holds_key)
  INSERT INTO messaging.retries (subscriber, event_id, event_type, envelope, attempts, next_attempt_at, last_error, last_stack, ordering_key, key_seq, out_of_order)
  SELECT subscriber, event_id, event_type, envelope, 0, clock_timestamp(), error, stack, ordering_key, key_seq, ordering_key IS NOT NULL AND NOT holds_key FROM moved
  ON CONFLICT (subscriber, event_id) DO UPDATE SET attempts = 0, next_attempt_at = clock_timestamp(), held = false
  RETURNING subscriber, event_id`;

/**
 * The dead-letter store: list what failed for good, and replay it once the cause is fixed.
 * Used by the admin HTTP controller and the CLI; outside Nest, build it with
 * `new DeadLetters({ dataSource })`.
 */
@Injectable()
export class DeadLetters {
  constructor(
    @Inject(Database) private readonly database: Pick<Database, 'dataSource'>,
    @Optional() private readonly poller?: RetryPoller,
  ) {}

  /** Newest first. */
  async list(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    const limit = query.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError('limit', 'must be an integer from 1 to 1000');
    if (query.before !== undefined) assertId(query.before, 'before');
    const rows = await queryRows<DeadLetterRow>(
      this.database.dataSource,
      `SELECT id, subscriber, event_id, event_type, error, stack, attempts, failed_at, envelope
         FROM messaging.dead_letters
        WHERE ($1::text IS NULL OR subscriber = $1) AND ($2::uuid IS NULL OR id < $2)
        ORDER BY id DESC
        LIMIT $3`,
      [query.subscriber ?? null, query.before ?? null, limit],
    );
    return rows.map(toDeadLetter);
  }

  async count(subscriber?: string): Promise<number> {
    const [row] = await queryRows<{ count: string }>(
      this.database.dataSource,
      'SELECT count(*) FROM messaging.dead_letters WHERE ($1::text IS NULL OR subscriber = $1)',
      [subscriber ?? null],
    );
    return Number(row.count);
  }

  /** Hands one dead letter back to its subscriber; throws NotFoundError if there is none with that id. */
  async replay(id: string): Promise<ReplayedDeadLetter> {
    assertId(id, 'id');
    const [row] = await queryRows<{ subscriber: string; event_id: string }>(this.database.dataSource, REPLAY('id = $1'), [id]);
    if (!row) throw new NotFoundError(`no dead letter ${id}`, { id });
    this.poller?.wakeIn(0);
    return { subscriber: row.subscriber, eventId: row.event_id };
  }

  /** Hands every dead letter of a subscriber back to it; returns how many. */
  async replayAll(subscriber: string): Promise<number> {
    if (!subscriber) throw new ValidationError('subscriber', 'is required');
    const rows = await queryRows(this.database.dataSource, REPLAY('subscriber = $1'), [subscriber]);
    if (rows.length > 0) this.poller?.wakeIn(0);
    return rows.length;
  }
}

function assertId(value: string, field: string): void {
  if (!UUID.test(value)) throw new ValidationError(field, 'must be a UUID');
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    subscriber: row.subscriber,
    eventId: row.event_id,
    eventType: row.event_type,
    error: row.error,
    stack: row.stack,
    attempts: row.attempts,
    failedAt: row.failed_at.toISOString(),
    envelope: row.envelope,
  };
}

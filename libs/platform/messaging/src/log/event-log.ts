import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from '../events/event-envelope';
import { fromLog } from '../relay/relay';
import { MessagingConnections } from '../sql/messaging-connections';
import { queryRows } from '../sql/query-rows';

/** One row of the log: a relayed batch and its place. */
export interface LogEntry {
  /** Log position: increases by claim, never reused. */
  position: number;
  envelopes: EventEnvelope[];
}

/** A log row as the relay's claim returns it: its events as the JSON text the log holds. */
export interface AppendedRow {
  position: number;
  type: string;
  /** A JSON array of envelopes, parsed by each reader for itself (its handlers get their own objects). */
  events: string;
}

/**
 * What one claim of this process's relay appended to the log, handed to the log readers here
 * once it committed (see `LogLane.offer`): a reader whose cursor is just before `first` takes
 * these rows without reading the log. Positions are numbered under the claim lock, so no other
 * claim's rows lie between `first` and `last` when `rows` fills the span.
 */
export interface AppendedClaim {
  first: number;
  last: number;
  /** Rows the claim appended, of every type. */
  rows: number;
  /** The types whose rows are in `entries` (those read here when it claimed): a row of another type in the span is not. */
  types: readonly string[];
  /** The claim's rows of `types`, in position order. */
  entries: AppendedRow[];
}

/** An appended row as a read of the log would have returned it. */
export function appendedEntry(row: AppendedRow): LogEntry {
  return { position: row.position, envelopes: (JSON.parse(row.events) as EventEnvelope[]).map(fromLog) };
}

/** A subscriber's cursor as `EventLog.lease` hands it out. */
export interface CursorLease {
  position: number;
  /** The holder held it already and no one else took it meanwhile. */
  renewed: boolean;
  /** The log's last position when the lease was taken. */
  head: number;
}

/** A durable subscriber as the log knows it: its name and the one event type it takes. */
export interface LogSubscriber {
  subscriber: string;
  eventType: string;
}

// A subscriber met for the first time starts after what is in the log now, and every key of its
// type counts as seen up to its last number already relayed: the key's events still in the
// outbox (always its highest numbers: each key leaves in order) are the subscriber's.
const REGISTER = `
  WITH fresh AS (
    INSERT INTO messaging.subscriptions (subscriber, event_type) SELECT * FROM unnest($1::text[], $2::text[])
    ON CONFLICT DO NOTHING RETURNING subscriber, event_type),
  cursors AS (
    INSERT INTO messaging.log_cursors (subscriber, position)
    SELECT subscriber, coalesce((SELECT max(position) FROM messaging.event_log), 0) FROM fresh
    ON CONFLICT DO NOTHING),
  unrelayed AS (
    SELECT type, ordering_key, count(*) AS pending FROM messaging.outbox
     WHERE ordering_key IS NOT NULL AND type IN (SELECT event_type FROM fresh)
     GROUP BY type, ordering_key)
  INSERT INTO messaging.key_progress (subscriber, ordering_key, seq)
  SELECT f.subscriber, k.ordering_key, k.seq - coalesce(u.pending, 0)
    FROM fresh f
    JOIN messaging.ordering_keys k ON k.event_type = f.event_type
    LEFT JOIN unrelayed u ON u.type = k.event_type AND u.ordering_key = k.ordering_key
  ON CONFLICT DO NOTHING`;

/**
 * `messaging.event_log` as its readers see it: with the in-process transport the relay appends
 * each claimed batch as one row (see `Relay`), every durable subscriber reads from its own
 * cursor at its own pace, and rows are deleted once every cursor passed them. So a slow or hung
 * subscriber holds back only itself, and no transaction stays open while handlers run.
 */
@Injectable()
export class EventLog {
  constructor(private readonly connections: MessagingConnections) {}

  /**
   * Registers durable subscribers. One met for the first time (in any transport) starts from
   * now: its cursor after the log's last row, and for each ordering key already used, the key's
   * events so far count as before its time (`key_progress` copied from `ordering_keys`).
   */
  async register(subscribers: readonly LogSubscriber[]): Promise<void> {
    if (subscribers.length === 0) return;
    const names = subscribers.map((entry) => entry.subscriber);
    await queryRows(await this.connections.dataSource(), REGISTER, [names, subscribers.map((entry) => entry.eventType)]);
    // A subscriber that started under another transport has progress but no cursor yet.
    await queryRows(
      await this.connections.dataSource(),
      `INSERT INTO messaging.log_cursors (subscriber, position)
       SELECT s, coalesce((SELECT min(position) - 1 FROM messaging.event_log), 0) FROM unnest($1::text[]) AS s
       ON CONFLICT DO NOTHING`,
      [names],
    );
  }

  /**
   * Forgets the subscribers no module declares any more (a handler removed from the code): their
   * cursors would otherwise keep every log row for ever. Their registration and key progress go
   * with them, so one declared again later starts afresh, from then, instead of waiting for the
   * events it missed meanwhile.
   */
  async forgetUndeclared(): Promise<void> {
    await queryRows(
      await this.connections.dataSource(),
      `WITH gone AS (
         DELETE FROM messaging.log_cursors c
          WHERE EXISTS (SELECT 1 FROM messaging.durable_modules)
            AND NOT EXISTS (SELECT 1 FROM messaging.durable_modules m WHERE c.subscriber = ANY (m.subscribers))
          RETURNING subscriber),
       unregistered AS (DELETE FROM messaging.subscriptions WHERE subscriber IN (SELECT subscriber FROM gone))
       DELETE FROM messaging.key_progress WHERE subscriber IN (SELECT subscriber FROM gone)`,
    );
  }

  /**
   * Takes (or renews) the subscriber's cursor for `owner` for `leaseMs`, unless another process
   * holds it; undefined when it is someone else's. `renewed`: `owner` held it already and no one
   * else took it meanwhile (the row still names `owner`); `head`: the log's last position now.
   * When not `renewed`, the rows up to `head` may have been handled by an earlier holder that
   * did not move the cursor past them (it died, or lost its lease mid-batch).
   */
  async lease(subscriber: string, owner: string, leaseMs: number): Promise<CursorLease | undefined> {
    const [row] = await queryRows<{ position: string; renewed: boolean; head: string | null }>(
      await this.connections.dataSource(),
      `UPDATE messaging.log_cursors c SET owner = $2, lease_until = clock_timestamp() + $3 * interval '1 millisecond'
         FROM (SELECT owner AS previous FROM messaging.log_cursors WHERE subscriber = $1 FOR UPDATE) before
        WHERE c.subscriber = $1 AND (c.owner IS NULL OR c.owner = $2 OR c.lease_until < clock_timestamp())
        RETURNING c.position, before.previous IS NOT DISTINCT FROM $2 AS renewed, (SELECT max(position) FROM messaging.event_log) AS head`,
      [subscriber, owner, leaseMs],
    );
    return row ? { position: Number(row.position), renewed: row.renewed, head: Number(row.head ?? row.position) } : undefined;
  }

  /** Lets go of the cursor (at shutdown), so another process may take it at once. */
  async release(subscriber: string, owner: string): Promise<void> {
    await queryRows(await this.connections.dataSource(), 'UPDATE messaging.log_cursors SET owner = NULL, lease_until = NULL WHERE subscriber = $1 AND owner = $2', [
      subscriber,
      owner,
    ]);
  }

  /**
   * Up to `limit` rows of `types` after `position`, in order; and `passed`: how far a reader of
   * those types may move its cursor once it has them (past other types' rows too, so a reader of
   * a rare type does not hold every other row in the log).
   */
  async read(position: number, types: readonly string[], limit: number): Promise<{ entries: LogEntry[]; passed: number }> {
    const rows = await queryRows<{ position: string | null; events: EventEnvelope[] | null; head: string | null }>(
      await this.connections.dataSource(),
      `WITH wanted AS (
         SELECT position, events FROM messaging.event_log WHERE type = ANY ($2::text[]) AND position > $1 ORDER BY position LIMIT $3)
       SELECT w.position, w.events, h.head FROM (SELECT max(position) AS head FROM messaging.event_log) h LEFT JOIN wanted w ON true
        ORDER BY w.position`,
      [position, types, limit],
    );
    const entries = rows.filter((row) => row.position !== null).map((row) => ({ position: Number(row.position), envelopes: (row.events ?? []).map(fromLog) }));
    // With fewer rows than asked, every row of these types up to the head (read in the same
    // snapshot; positions are given out by one claim at a time) is here: the cursor may pass it.
    const head = Number(rows[0]?.head ?? position);
    const passed = entries.length < limit ? Math.max(position, head) : (entries.at(-1)?.position ?? position);
    return { entries, passed };
  }

  /**
   * Moves the subscriber's cursor to `position` (never back) and renews the lease; false when
   * `owner` no longer holds it (its lease ran out and another process took over). The move
   * commits asynchronously (no WAL flush to wait for, one per batch and subscriber): a server
   * crash can only take the cursor back, and the events are then read again and skipped by the
   * inbox and key progress; the next synchronous commit (a handler's, a trim) flushes it.
   */
  async advance(subscriber: string, owner: string, position: number, leaseMs: number): Promise<boolean> {
    const rows = await queryRows(
      await this.connections.dataSource(),
      `UPDATE messaging.log_cursors
          SET position = greatest(position, $3), lease_until = clock_timestamp() + $4 * interval '1 millisecond', updated_at = now()
         FROM (SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous
        WHERE subscriber = $1 AND owner = $2
        RETURNING 1`,
      [subscriber, owner, position, leaseMs],
    );
    return rows.length > 0;
  }

  /** Whether every cursor has reached `position`. */
  async cursorsAt(position: number): Promise<boolean> {
    const [row] = await queryRows<{ behind: string }>(await this.connections.dataSource(), 'SELECT count(*) AS behind FROM messaging.log_cursors WHERE position < $1', [position]);
    return Number(row?.behind ?? 0) === 0;
  }

  /** The last position written, 0 for an empty log. */
  async head(): Promise<number> {
    const [row] = await queryRows<{ position: string | null }>(await this.connections.dataSource(), 'SELECT max(position) AS position FROM messaging.event_log');
    return Number(row?.position ?? 0);
  }

  /** Deletes the rows every cursor has passed; returns how many events they held. */
  async trim(): Promise<number> {
    const [row] = await queryRows<{ events: string | null }>(
      await this.connections.dataSource(),
      `WITH gone AS (
         DELETE FROM messaging.event_log
          WHERE position <= coalesce((SELECT min(position) FROM messaging.log_cursors), (SELECT max(position) FROM messaging.event_log))
          RETURNING count)
       SELECT sum(count) AS events FROM gone`,
    );
    return Number(row?.events ?? 0);
  }
}

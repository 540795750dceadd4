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

// A subscriber met for the first time starts after what is in the log now, and every key
// appended so far counts as seen up to its last number (see `register`).
const REGISTER = `
  WITH fresh AS (
    INSERT INTO messaging.subscriptions (subscriber) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING subscriber),
  cursors AS (
    INSERT INTO messaging.log_cursors (subscriber, position)
    SELECT subscriber, coalesce((SELECT max(position) FROM messaging.event_log), 0) FROM fresh
    ON CONFLICT DO NOTHING)
  INSERT INTO messaging.key_progress (subscriber, ordering_key, seq)
  SELECT f.subscriber, k.ordering_key, k.seq FROM fresh f CROSS JOIN messaging.ordering_keys k
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
  async register(subscribers: readonly string[]): Promise<void> {
    if (subscribers.length === 0) return;
    await queryRows(await this.connections.dataSource(), REGISTER, [subscribers]);
    // A subscriber that started under another transport has progress but no cursor yet.
    await queryRows(
      await this.connections.dataSource(),
      `INSERT INTO messaging.log_cursors (subscriber, position)
       SELECT s, coalesce((SELECT min(position) - 1 FROM messaging.event_log), 0) FROM unnest($1::text[]) AS s
       ON CONFLICT DO NOTHING`,
      [subscribers],
    );
  }

  /**
   * Forgets the cursors of subscribers no module declares any more (a handler removed from the
   * code), which would otherwise keep every log row for ever.
   */
  async forgetUndeclared(): Promise<void> {
    await queryRows(
      await this.connections.dataSource(),
      `DELETE FROM messaging.log_cursors c
        WHERE EXISTS (SELECT 1 FROM messaging.durable_modules)
          AND NOT EXISTS (SELECT 1 FROM messaging.durable_modules m WHERE c.subscriber = ANY (m.subscribers))`,
    );
  }

  async cursor(subscriber: string): Promise<number> {
    const [row] = await queryRows<{ position: string }>(await this.connections.dataSource(), 'SELECT position FROM messaging.log_cursors WHERE subscriber = $1', [subscriber]);
    return row ? Number(row.position) : 0;
  }

  /** Up to `limit` rows after `position`, in order. */
  async read(position: number, limit: number): Promise<LogEntry[]> {
    const rows = await queryRows<{ position: string; events: EventEnvelope[] }>(
      await this.connections.dataSource(),
      'SELECT position, events FROM messaging.event_log WHERE position > $1 ORDER BY position LIMIT $2',
      [position, limit],
    );
    return rows.map((row) => ({ position: Number(row.position), envelopes: row.events.map(fromLog) }));
  }

  /** Moves the subscriber's cursor to `position` (never back). */
  async advance(subscriber: string, position: number): Promise<void> {
    await queryRows(
      await this.connections.dataSource(),
      'UPDATE messaging.log_cursors SET position = greatest(position, $2), updated_at = now() WHERE subscriber = $1',
      [subscriber, position],
    );
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

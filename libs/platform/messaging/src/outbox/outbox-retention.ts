import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ValidationError } from '@modulith/core';
import { Database } from '@modulith/database';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { describeFailure } from '../retries/failure';
import { queryRows } from '../sql/query-rows';
import { OUTBOX_CHANNEL } from '../relay/notify-coalescer';

const CHUNK = 10_000;
const HOUR_MS = 3_600_000;

// Back into the outbox, as they were, each key's events in their order and with their numbers:
// the relays (woken by the NOTIFY) publish them again through whatever transport runs now, and
// subscribers skip what they had handled (inbox, key progress).
const REDRIVE = `
  WITH again AS (
    INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, traceparent, tracestate, payload, ordering_key, key_seq)
    SELECT d.id, d.type, d.version, d.occurred_at, d.source, d.correlation_id, d.causation_id, d.traceparent, d.tracestate, d.payload, d.ordering_key, d.key_seq
      FROM messaging.outbox_delivered d
     WHERE d.delivered_at >= $1 AND d.delivered_at < $2
       AND NOT EXISTS (SELECT 1 FROM messaging.outbox o WHERE o.id = d.id)
     ORDER BY d.ordering_key, d.key_seq, d.id
    RETURNING 1)
  SELECT count(*)::int AS count FROM again`;

/** What the retention window holds right now. */
export interface RetainedOutbox {
  rows: number;
  oldestDeliveredAt: string | null;
  newestDeliveredAt: string | null;
}

/**
 * Delivered outbox rows kept for `OUTBOX_RETENTION_HOURS` (the relay copies each batch into
 * `messaging.outbox_delivered` in the transaction that deletes it from the outbox), and the
 * re-drive that publishes them again from a point in time: the recovery when a broker lost
 * events it had acknowledged (a Redis without persistence restarted, a stream trimmed before a
 * lagging group read it). Safe to run at any time and more than once: every durable subscriber's
 * inbox skips events it has handled; best-effort subscribers may see repeats.
 * Outside Nest: `new OutboxRetention({ dataSource })`.
 */
@Injectable()
export class OutboxRetention {
  private readonly logger = new Logger('Messaging:OutboxRetention');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    @Inject(Database) private readonly database: Pick<Database, 'dataSource'>,
    @Optional() @Inject(MESSAGING_CONFIG) private readonly config?: Pick<MessagingConfig, 'outboxRetentionHours' | 'outboxPruneIntervalMs'>,
  ) {}

  /** True when delivered rows are kept. */
  get enabled(): boolean {
    return (this.config?.outboxRetentionHours ?? 0) > 0;
  }

  /**
   * Puts every kept event delivered at or after `since` (and before `until`, default now) back
   * into the outbox, and wakes the relays. Returns how many; events still pending are skipped.
   */
  async redriveFrom(since: Date, until: Date = new Date()): Promise<number> {
    assertDate(since, 'since');
    assertDate(until, 'until');
    const [row] = await queryRows<{ count: number }>(this.database.dataSource, REDRIVE, [since.toISOString(), until.toISOString()]);
    if (row.count > 0) await this.database.dataSource.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
    this.logger.log(`re-drive from ${since.toISOString()}: ${row.count} events back in the outbox`);
    return row.count;
  }

  async retained(): Promise<RetainedOutbox> {
    const [row] = await queryRows<{ rows: number; oldest: Date | null; newest: Date | null }>(
      this.database.dataSource,
      'SELECT count(*)::int AS rows, min(delivered_at) AS oldest, max(delivered_at) AS newest FROM messaging.outbox_delivered',
    );
    return { rows: row.rows, oldestDeliveredAt: row.oldest?.toISOString() ?? null, newestDeliveredAt: row.newest?.toISOString() ?? null };
  }

  /** Deletes kept rows delivered before the retention window; returns how many. */
  async pruneOnce(now: number = Date.now()): Promise<number> {
    const cutoff = new Date(now - (this.config?.outboxRetentionHours ?? 0) * HOUR_MS).toISOString();
    let deleted = 0;
    for (;;) {
      const rows = await queryRows<{ id: string }>(
        this.database.dataSource,
        `DELETE FROM messaging.outbox_delivered WHERE id = ANY (ARRAY(
           SELECT id FROM messaging.outbox_delivered WHERE delivered_at < $1 LIMIT ${CHUNK} FOR UPDATE SKIP LOCKED))
         RETURNING id`,
        [cutoff],
      );
      deleted += rows.length;
      if (rows.length < CHUNK) return deleted;
    }
  }

  /** Prunes every `OUTBOX_PRUNE_INTERVAL_MS` while retention is on (started by the relay). */
  start(): void {
    if (!this.enabled || this.timer || !this.config) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.pruneOnce()
        .catch((error) => {
          this.logger.warn(`outbox retention pruning failed: ${describeFailure(error).message}`);
          return 0;
        })
        .finally(() => (this.running = undefined));
    }, this.config.outboxPruneIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

function assertDate(value: Date, field: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new ValidationError(field, 'must be a valid date');
}

import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AnalyticsTotals, HourlyBucket } from '@modulith/analytics/contracts';
import { Database } from '@modulith/database';
import type { TransferIngestedPayload } from '@modulith/ingestion/contracts';
import type { HourlyPosition } from './get-hourly-volume/hourly-cursor';

/** Set-based SQL over schema `analytics`. */
@Injectable()
export class AnalyticsRepository {
  constructor(private readonly database: Database) {}

  /** Folds a batch of transfers into their hourly buckets with one statement. */
  async record(tx: EntityManager, transfers: readonly TransferIngestedPayload[]): Promise<void> {
    await tx.query(
      `INSERT INTO analytics.hourly AS h (hour, currency, count, volume, largest)
       SELECT date_trunc('hour', t.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', t.currency, count(*), sum(t.amount), max(t.amount)
         FROM unnest($1::timestamptz[], $2::text[], $3::bigint[]) AS t(occurred_at, currency, amount)
        GROUP BY 1, 2
        ORDER BY 1, 2
       ON CONFLICT (hour, currency) DO UPDATE
         SET count = h.count + excluded.count, volume = h.volume + excluded.volume, largest = greatest(h.largest, excluded.largest)`,
      [transfers.map((t) => t.occurredAt), transfers.map((t) => t.currency), transfers.map((t) => t.amount)],
    );
  }

  /**
   * At most `limit` buckets in (hour, currency) order, after `after` when given, and whether
   * more follow: one row past the page is read, so a full last page is never followed by an
   * empty one and nothing is ever cut without `more` saying so.
   */
  async hourly(filter: { currency?: string; from?: string; to?: string }, limit: number, after?: HourlyPosition): Promise<{ buckets: HourlyBucket[]; more: boolean }> {
    const rows: { hour: Date; currency: string; count: string; volume: string; largest: string }[] = await this.database.dataSource.query(
      `SELECT hour, currency, count::text, volume::text, largest::text FROM analytics.hourly
        WHERE ($1::text IS NULL OR currency = $1) AND ($2::timestamptz IS NULL OR hour >= $2) AND ($3::timestamptz IS NULL OR hour < $3)
          AND ($4::timestamptz IS NULL OR (hour, currency) > ($4::timestamptz, $5::char(3)))
        ORDER BY hour, currency LIMIT $6`,
      [filter.currency ?? null, filter.from ?? null, filter.to ?? null, after?.hour ?? null, after?.currency ?? null, limit + 1],
    );
    const buckets = rows
      .slice(0, limit)
      .map((row) => ({ hour: row.hour.toISOString(), currency: row.currency, count: Number(row.count), volume: row.volume, largest: row.largest }));
    return { buckets, more: rows.length > limit };
  }

  async totals(): Promise<AnalyticsTotals> {
    const rows: { currency: string; count: string; volume: string }[] = await this.database.dataSource.query(
      'SELECT currency, sum(count)::text AS count, sum(volume)::text AS volume FROM analytics.hourly GROUP BY currency ORDER BY currency',
    );
    const byCurrency = rows.map((row) => ({ currency: row.currency, count: Number(row.count), volume: row.volume }));
    return { transfersCounted: byCurrency.reduce((sum, row) => sum + row.count, 0), byCurrency };
  }
}

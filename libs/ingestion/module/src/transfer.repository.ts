import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Database } from '@modulith/database';
import type { IngestionTotals, Transfer, TransferPage, TransferView } from '@modulith/ingestion/contracts';
import { TransferEntity } from './transfer.entity';

interface TransferRow {
  id: string;
  seq: string;
  from_account: string;
  to_account: string;
  amount: string;
  currency: string;
  occurred_at: Date;
  ingested_at: Date;
}

const COLUMNS = 'id, seq, from_account, to_account, amount::text AS amount, currency, occurred_at, ingested_at';

function toView(row: TransferRow): TransferView {
  return {
    id: row.id,
    from: row.from_account,
    to: row.to_account,
    amount: row.amount,
    currency: row.currency,
    occurredAt: row.occurred_at.toISOString(),
    ingestedAt: row.ingested_at.toISOString(),
  };
}

/** Set-based SQL over `ingestion.transfers`: one statement per batch, never one per row. */
@Injectable()
export class TransferRepository {
  constructor(private readonly database: Database) {}

  /** Inserts the transfers whose ids are new, stamped `ingestedAt`; returns those ids. */
  async insertNew(tx: EntityManager, transfers: readonly Transfer[], ingestedAt: Date): Promise<Set<string>> {
    const rows: { id: string }[] = await tx.query(
      `INSERT INTO ingestion.transfers (id, from_account, to_account, amount, currency, occurred_at, ingested_at)
       SELECT *, $7::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        transfers.map((t) => t.id),
        transfers.map((t) => t.from),
        transfers.map((t) => t.to),
        transfers.map((t) => t.amount),
        transfers.map((t) => t.currency),
        transfers.map((t) => t.occurredAt),
        ingestedAt.toISOString(),
      ],
    );
    return new Set(rows.map((row) => row.id));
  }

  async findByIds(tx: EntityManager, ids: readonly string[]): Promise<TransferView[]> {
    if (ids.length === 0) return [];
    const rows: TransferRow[] = await tx.query(`SELECT ${COLUMNS} FROM ingestion.transfers WHERE id = ANY($1::text[])`, [ids]);
    return rows.map(toView);
  }

  async findById(id: string): Promise<TransferView | null> {
    const entity = await this.database.dataSource.getRepository(TransferEntity).findOneBy({ id });
    return entity
      ? {
          id: entity.id,
          from: entity.from,
          to: entity.to,
          amount: entity.amount,
          currency: entity.currency.trim(),
          occurredAt: entity.occurredAt.toISOString(),
          ingestedAt: entity.ingestedAt.toISOString(),
        }
      : null;
  }

  /** Newest first; the cursor is the `seq` of the last item of the previous page. */
  async findByAccount(account: string, limit: number, beforeSeq?: string): Promise<TransferPage> {
    const rows: TransferRow[] = await this.database.dataSource.query(
      `SELECT ${COLUMNS} FROM (
         (SELECT * FROM ingestion.transfers WHERE from_account = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3)
         UNION ALL
         (SELECT * FROM ingestion.transfers WHERE to_account = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3)
       ) both_sides ORDER BY seq DESC LIMIT $3`,
      [account, beforeSeq ?? '9223372036854775807', limit + 1],
    );
    const page = rows.slice(0, limit);
    return {
      items: page.map(toView),
      nextCursor: rows.length > limit ? page[page.length - 1].seq : null,
    };
  }

  async totals(): Promise<IngestionTotals> {
    const source = this.database.dataSource;
    // count as bigint text (int4 would overflow past 2^31 rows); sum(bigint) is numeric, never overflows.
    const rows: { currency: string; count: string; volume: string }[] = await source.query(
      'SELECT currency, count(*)::text AS count, sum(amount)::text AS volume FROM ingestion.transfers GROUP BY currency ORDER BY currency',
    );
    const byCurrency = rows.map((row) => ({ currency: row.currency, count: Number(row.count), volume: row.volume }));
    const netByAccount: { account: string; currency: string; net: string }[] = await source.query(
      `SELECT account, currency, sum(delta)::text AS net FROM (
         SELECT from_account AS account, currency, -amount::numeric AS delta FROM ingestion.transfers
         UNION ALL
         SELECT to_account, currency, amount::numeric FROM ingestion.transfers
       ) postings GROUP BY account, currency ORDER BY account, currency`,
    );
    return { transfers: byCurrency.reduce((sum, row) => sum + row.count, 0), byCurrency, netByAccount };
  }
}

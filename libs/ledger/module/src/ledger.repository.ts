import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Database } from '@modulith/database';
import type { AccountBalances, LedgerEntry, LedgerEntryPage, LedgerTotals } from '@modulith/ledger/contracts';
import { balanceKey, type AppliedPosting } from './posting.rules';

interface EntryRow {
  seq: string;
  transfer_id: string;
  account: string;
  currency: string;
  amount: string;
  balance_after: string;
  recorded_at: Date;
}

const toEntry = (row: EntryRow): LedgerEntry => ({
  seq: row.seq,
  transferId: row.transfer_id,
  account: row.account,
  currency: row.currency,
  amount: row.amount,
  balanceAfter: row.balance_after,
  recordedAt: row.recorded_at.toISOString(),
});

/** Set-based SQL over schema `ledger`: one statement per batch for balances and one for entries. */
@Injectable()
export class LedgerRepository {
  constructor(private readonly database: Database) {}

  /** Adds net changes to balances (creating them at zero); returns the balances after. */
  async addToBalances(tx: EntityManager, changes: { account: string; currency: string; delta: bigint }[]): Promise<Map<string, bigint>> {
    const rows: { account: string; currency: string; balance: string }[] = await tx.query(
      `INSERT INTO ledger.balances AS b (account, currency, balance)
       SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[])
       ON CONFLICT (account, currency) DO UPDATE SET balance = b.balance + excluded.balance, updated_at = now()
       RETURNING account, currency, balance::text`,
      [changes.map((c) => c.account), changes.map((c) => c.currency), changes.map((c) => c.delta.toString())],
    );
    return new Map(rows.map((row) => [balanceKey(row.account, row.currency), BigInt(row.balance)]));
  }

  /** Records the entries in posting order; returns their sequence numbers, parallel to `postings`. */
  async insertEntries(tx: EntityManager, postings: readonly AppliedPosting[]): Promise<string[]> {
    const rows: { seq: string }[] = await tx.query(
      `INSERT INTO ledger.entries (transfer_id, account, currency, amount, balance_after)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::numeric[])
       RETURNING seq::text`,
      [
        postings.map((p) => p.transferId),
        postings.map((p) => p.account),
        postings.map((p) => p.currency),
        postings.map((p) => p.amount.toString()),
        postings.map((p) => p.balanceAfter.toString()),
      ],
    );
    return rows.map((row) => row.seq);
  }

  /**
   * Each balance with the `seq` of its last entry (`entrySeq`, the `BalanceChanged` that set it),
   * read in one statement, so one snapshot: the balance is exactly the one that entry left.
   * A reader joins it to the live `BalanceChanged` stream by skipping changes at or below it.
   */
  async balancesOf(account: string): Promise<AccountBalances> {
    // The newest entry of the balance comes from the (account, seq) index read backwards; a
    // balance and its entries change in one transaction (the balance row lock orders them).
    const rows: { currency: string; balance: string; entrySeq: string }[] = await this.database.dataSource.query(
      `SELECT b.currency, b.balance::text,
              (SELECT e.seq FROM ledger.entries e WHERE e.account = b.account AND e.currency = b.currency ORDER BY e.seq DESC LIMIT 1)::text AS "entrySeq"
         FROM ledger.balances b WHERE b.account = $1 ORDER BY b.currency`,
      [account],
    );
    return { account, balances: rows };
  }

  async entriesOf(account: string, limit: number, beforeSeq?: string): Promise<LedgerEntryPage> {
    const rows: EntryRow[] = await this.database.dataSource.query(
      `SELECT seq::text, transfer_id, account, currency, amount::text, balance_after::text, recorded_at
         FROM ledger.entries e WHERE account = $1 AND e.seq < $2 ORDER BY e.seq DESC LIMIT $3`,
      [account, beforeSeq ?? '9223372036854775807', limit + 1],
    );
    const page = rows.slice(0, limit);
    return { items: page.map(toEntry), nextCursor: rows.length > limit ? page[page.length - 1].seq : null };
  }

  async totals(): Promise<Omit<LedgerTotals, 'statements'>> {
    const source = this.database.dataSource;
    const [applied] = await source.query(
      `SELECT count(*)::text AS transfers,
              count(*) FILTER (WHERE n <> 2 OR debits <> 1 OR net <> 0)::text AS malformed
         FROM (SELECT transfer_id, count(*) AS n, count(*) FILTER (WHERE amount < 0) AS debits, sum(amount) AS net
                 FROM ledger.entries GROUP BY transfer_id) per_transfer`,
    );
    const sums: { currency: string; balance: string }[] = await source.query(
      'SELECT currency, sum(balance)::text AS balance FROM ledger.balances GROUP BY currency ORDER BY currency',
    );
    const balances: { account: string; currency: string; balance: string }[] = await source.query(
      'SELECT account, currency, balance::text FROM ledger.balances ORDER BY account, currency',
    );
    // Counts travel as bigint text (an int4 cast would overflow past 2^31 transfers); sums as numeric text.
    return { transfersApplied: Number(applied.transfers), malformedTransfers: Number(applied.malformed), sumByCurrency: sums, balances };
  }
}


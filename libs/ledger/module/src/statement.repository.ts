import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Database } from '@modulith/database';
import type { StatementPage, StatementTotals } from '@modulith/ledger/contracts';
import { balanceKey } from './posting.rules';
import type { StatementHead, StatementLine } from './statement.rules';

// The currency column is char(3): compare it as char(3) so the primary key serves the lookup.
const HEADS = `
  SELECT k.account, k.currency, l.entry_seq::text, l.balance_after::text
    FROM unnest($1::text[], $2::text[]) AS k(account, currency)
    CROSS JOIN LATERAL (
      SELECT entry_seq, balance_after FROM ledger.statement_lines s
       WHERE s.account = k.account AND s.currency = k.currency::char(3)
       ORDER BY s.entry_seq DESC LIMIT 1) l`;

// Every statement against the ledger's own books: its lines are exactly the balance's entries
// (same sequence numbers and amounts), each line's balance is the previous one's plus its
// amount, and the last line's is the balance.
const CHECK = `
  WITH lines AS (
    SELECT account, currency, entry_seq, amount, balance_after,
           coalesce(lag(balance_after) OVER w, 0) AS before,
           lead(entry_seq) OVER w IS NULL AS last
      FROM ledger.statement_lines
    WINDOW w AS (PARTITION BY account, currency ORDER BY entry_seq)),
  problems AS (
    SELECT coalesce(l.account, e.account) AS account, coalesce(l.currency, e.currency) AS currency,
           CASE WHEN l.entry_seq IS NULL THEN 'entry ' || e.seq || ' has no line'
                WHEN e.seq IS NULL THEN 'line ' || l.entry_seq || ' has no entry'
                WHEN l.amount <> e.amount THEN 'line ' || l.entry_seq || ': amount ' || l.amount || ', entry ' || e.amount
                WHEN l.balance_after <> l.before + l.amount
                  THEN 'line ' || l.entry_seq || ': balance_after ' || l.balance_after || ', previous + amount ' || (l.before + l.amount)
           END AS problem
      FROM lines l FULL JOIN ledger.entries e ON e.seq = l.entry_seq AND e.account = l.account AND e.currency = l.currency
    UNION ALL
    SELECT coalesce(b.account, l.account), coalesce(b.currency, l.currency),
           'last balance_after ' || coalesce(l.balance_after::text, 'none') || ', balance ' || coalesce(b.balance::text, 'none')
      FROM ledger.balances b FULL JOIN (SELECT * FROM lines WHERE last) l ON l.account = b.account AND l.currency = b.currency
     WHERE l.balance_after IS DISTINCT FROM b.balance)
  SELECT (SELECT count(*) FROM lines WHERE last)::text AS statements,
         (SELECT count(*) FROM lines)::text AS lines,
         (SELECT count(DISTINCT (account, currency)) FROM problems WHERE problem IS NOT NULL)::text AS broken,
         ARRAY(SELECT currency || ' ' || account || ': ' || problem FROM problems WHERE problem IS NOT NULL
                ORDER BY currency, account, problem LIMIT 5) AS problems`;

/** Set-based SQL over `ledger.statement_lines`: the running statement of every balance. */
@Injectable()
export class StatementRepository {
  constructor(private readonly database: Database) {}

  /** The last line of each balance among `keys` that has a statement, by `balanceKey`. */
  async heads(tx: EntityManager, keys: readonly { account: string; currency: string }[]): Promise<Map<string, StatementHead>> {
    const distinct = [...new Map(keys.map((key) => [balanceKey(key.account, key.currency), key])).values()];
    const rows: { account: string; currency: string; entry_seq: string; balance_after: string }[] = await tx.query(HEADS, [
      distinct.map((key) => key.account),
      distinct.map((key) => key.currency),
    ]);
    return new Map(rows.map((row) => [balanceKey(row.account, row.currency), { entrySeq: BigInt(row.entry_seq), balanceAfter: BigInt(row.balance_after) }]));
  }

  async insertLines(tx: EntityManager, lines: readonly StatementLine[]): Promise<void> {
    if (lines.length === 0) return;
    await tx.query(
      `INSERT INTO ledger.statement_lines (account, currency, entry_seq, amount, balance_after)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::numeric[])`,
      [
        lines.map((line) => line.account),
        lines.map((line) => line.currency),
        lines.map((line) => line.entrySeq.toString()),
        lines.map((line) => line.amount.toString()),
        lines.map((line) => line.balanceAfter.toString()),
      ],
    );
  }

  async statementOf(account: string, currency: string, limit: number, afterSeq?: string): Promise<StatementPage> {
    const rows: { entry_seq: string; amount: string; balance_after: string }[] = await this.database.dataSource.query(
      `SELECT s.entry_seq::text, s.amount::text, s.balance_after::text FROM ledger.statement_lines s
        WHERE s.account = $1 AND s.currency = $2::char(3) AND s.entry_seq > $3 ORDER BY s.entry_seq LIMIT $4`,
      [account, currency, afterSeq ?? '0', limit + 1],
    );
    const page = rows.slice(0, limit);
    return {
      account,
      currency,
      lines: page.map((row) => ({ entrySeq: row.entry_seq, amount: row.amount, balanceAfter: row.balance_after })),
      nextCursor: rows.length > limit ? page[page.length - 1].entry_seq : null,
    };
  }

  async check(): Promise<StatementTotals> {
    const [row]: { statements: string; lines: string; broken: string; problems: string[] }[] = await this.database.dataSource.query(CHECK);
    return { statements: Number(row.statements), lines: Number(row.lines), broken: Number(row.broken), problems: row.problems };
  }
}

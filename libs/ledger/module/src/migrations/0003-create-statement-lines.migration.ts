import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The running statement of each balance (account and currency), written by the `ledger.statement`
 * subscriber from `BalanceChanged`: one line per entry, each line's `balance_after` the previous
 * line's plus its amount. Existing entries are copied in, so a statement starts with the ledger's
 * first entry; the subscriber then goes on from the events appended after it first started.
 */
export class CreateStatementLines0003 implements MigrationInterface {
  name = '0003-create-statement-lines';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE ledger.statement_lines (
        account       text    NOT NULL,
        currency      char(3) NOT NULL,
        entry_seq     bigint  NOT NULL,
        amount        bigint  NOT NULL,
        balance_after numeric NOT NULL,
        PRIMARY KEY (account, currency, entry_seq)
      )`);
    await runner.query(`
      INSERT INTO ledger.statement_lines (account, currency, entry_seq, amount, balance_after)
      SELECT account, currency, seq, amount, balance_after FROM ledger.entries`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE ledger.statement_lines');
  }
}

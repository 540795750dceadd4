import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateLedger0001 implements MigrationInterface {
  name = '0001-create-ledger';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE ledger.balances (
        account    text    NOT NULL,
        currency   char(3) NOT NULL,
        balance    bigint  NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account, currency)
      )`);
    // One debit and one credit per transfer; the unique key is a second guard behind the inbox.
    await runner.query(`
      CREATE TABLE ledger.entries (
        seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transfer_id   text    NOT NULL,
        account       text    NOT NULL,
        currency      char(3) NOT NULL,
        amount        bigint  NOT NULL CHECK (amount <> 0),
        balance_after bigint  NOT NULL,
        recorded_at   timestamptz NOT NULL DEFAULT now(),
        UNIQUE (transfer_id, account)
      )`);
    await runner.query('CREATE INDEX entries_account_idx ON ledger.entries (account, seq)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE ledger.entries');
    await runner.query('DROP TABLE ledger.balances');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTransfers0001 implements MigrationInterface {
  name = '0001-create-transfers';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE ingestion.transfers (
        id           text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
        seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        from_account text NOT NULL CHECK (length(from_account) BETWEEN 1 AND 128),
        to_account   text NOT NULL CHECK (length(to_account) BETWEEN 1 AND 128),
        amount       bigint NOT NULL CHECK (amount > 0),
        currency     char(3) NOT NULL,
        occurred_at  timestamptz NOT NULL,
        ingested_at  timestamptz NOT NULL DEFAULT now(),
        CHECK (from_account <> to_account)
      )`);
    // Listing by account walks one of these newest-first, keyset by seq.
    await runner.query('CREATE INDEX transfers_from_account_idx ON ingestion.transfers (from_account, seq)');
    await runner.query('CREATE INDEX transfers_to_account_idx ON ingestion.transfers (to_account, seq)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE ingestion.transfers');
  }
}

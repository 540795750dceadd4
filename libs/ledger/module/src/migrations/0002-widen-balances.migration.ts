import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Balances become `numeric` (unbounded integers): each amount fits 64 bits, but a balance is the
 * sum of any number of them, so `bigint` overflowed and a transfer ingestion had accepted could
 * never be applied. Entry amounts stay `bigint`, one transfer each.
 */
export class WidenBalances0002 implements MigrationInterface {
  name = '0002-widen-balances';

  async up(runner: QueryRunner): Promise<void> {
    // Rewrites both tables under an exclusive lock: a one-off cost paid at upgrade.
    await runner.query('ALTER TABLE ledger.balances ALTER COLUMN balance TYPE numeric');
    await runner.query('ALTER TABLE ledger.entries ALTER COLUMN balance_after TYPE numeric');
  }

  async down(runner: QueryRunner): Promise<void> {
    // Fails, changing nothing, while any balance lies outside the 64-bit range.
    await runner.query('ALTER TABLE ledger.entries ALTER COLUMN balance_after TYPE bigint');
    await runner.query('ALTER TABLE ledger.balances ALTER COLUMN balance TYPE bigint');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency receipts of remote commands: one row per (serving module, idempotency key),
 * inserted in the same transaction as the command handler's writes, with the handler's result.
 * A second delivery of the same request finds the row and replies with that result instead of
 * applying the command again. Pruned after `CALL_RECEIPT_RETENTION_HOURS`.
 */
export class CallReceipts0007 implements MigrationInterface {
  readonly name = '0007-call-receipts';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE messaging.call_receipts (
        module          text        NOT NULL,
        idempotency_key text        NOT NULL,
        result          jsonb,
        applied_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (module, idempotency_key)
      )`);
    await runner.query('CREATE INDEX call_receipts_applied_at ON messaging.call_receipts (applied_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE messaging.call_receipts');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivered outbox rows, kept for `OUTBOX_RETENTION_HOURS` when that is set (nothing is written
 * here otherwise), so events can be published again from a point in time: see `OutboxRetention`.
 * A table of its own, so the outbox itself stays a short queue whose claim scans only pending rows.
 */
export class CreateOutboxDelivered0002 implements MigrationInterface {
  readonly name = '0002-create-outbox-delivered';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE messaging.outbox_delivered (
        id             uuid        PRIMARY KEY,
        type           text        NOT NULL,
        version        integer     NOT NULL,
        occurred_at    timestamptz NOT NULL,
        source         text        NOT NULL,
        correlation_id text        NOT NULL,
        causation_id   text,
        payload        json        NOT NULL,
        delivered_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX outbox_delivered_at_idx ON messaging.outbox_delivered (delivered_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE messaging.outbox_delivered');
  }
}

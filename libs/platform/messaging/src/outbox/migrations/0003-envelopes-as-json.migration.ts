import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retries and dead letters keep envelopes as `json`, like the outbox. With `jsonb` there, an
 * event the outbox had accepted (a string holding `\u0000`, which `jsonb` refuses) could not be
 * parked when its handler failed, and the relay retried it for ever. One storage type end to end
 * means whatever the outbox holds can be retried, dead-lettered and replayed.
 */
export class EnvelopesAsJson0003 implements MigrationInterface {
  readonly name = '0003-envelopes-as-json';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE messaging.retries ALTER COLUMN envelope TYPE json USING envelope::text::json');
    await runner.query('ALTER TABLE messaging.dead_letters ALTER COLUMN envelope TYPE json USING envelope::text::json');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE messaging.retries ALTER COLUMN envelope TYPE jsonb USING envelope::jsonb');
    await runner.query('ALTER TABLE messaging.dead_letters ALTER COLUMN envelope TYPE jsonb USING envelope::jsonb');
  }
}

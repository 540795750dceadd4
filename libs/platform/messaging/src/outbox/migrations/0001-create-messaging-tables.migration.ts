import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The platform's own tables: the outbox, parked retries and dead letters. */
export class CreateMessagingTables0001 implements MigrationInterface {
  readonly name = '0001-create-messaging-tables';

  async up(runner: QueryRunner): Promise<void> {
    // `json`, not `jsonb`: the outbox only carries payloads through, and json stores the text as
    // given, without the parse and re-encode jsonb does on every write.
    // Rows are deleted as soon as they are delivered, so the table churns like a queue: vacuum
    // it after a fixed number of dead rows rather than a fraction of a (tiny) live table.
    await runner.query(`
      CREATE TABLE messaging.outbox (
        id             uuid        PRIMARY KEY,
        type           text        NOT NULL,
        version        integer     NOT NULL,
        occurred_at    timestamptz NOT NULL,
        source         text        NOT NULL,
        correlation_id text        NOT NULL,
        causation_id   text,
        payload        json        NOT NULL
      ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000)`);
    await runner.query(`
      CREATE TABLE messaging.retries (
        subscriber      text        NOT NULL,
        event_id        uuid        NOT NULL,
        event_type      text        NOT NULL,
        envelope        jsonb       NOT NULL,
        attempts        integer     NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        last_error      text        NOT NULL,
        last_stack      text,
        parked_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subscriber, event_id)
      )`);
    await runner.query(`CREATE INDEX retries_due_idx ON messaging.retries (next_attempt_at)`);
    await runner.query(`
      CREATE TABLE messaging.dead_letters (
        id         uuid        PRIMARY KEY,
        subscriber text        NOT NULL,
        event_id   uuid        NOT NULL,
        event_type text        NOT NULL,
        envelope   jsonb       NOT NULL,
        error      text        NOT NULL,
        stack      text,
        attempts   integer     NOT NULL,
        failed_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (subscriber, event_id)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE messaging.dead_letters, messaging.retries, messaging.outbox');
  }
}

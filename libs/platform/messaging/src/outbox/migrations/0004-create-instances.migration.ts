import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the processes sharing this database know of each other (see `MessagingTopology`):
 * `instances`, one row per running process, refreshed by its heartbeat and removed when it
 * stops; `durable_modules`, every module that ever hosted a durable subscriber here. The second
 * outlives the processes on purpose: with the in-process transport a relay must not delete the
 * events of a module whose process is merely down.
 */
export class CreateInstances0004 implements MigrationInterface {
  readonly name = '0004-create-instances';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE messaging.instances (
        id            uuid        PRIMARY KEY,
        host          text        NOT NULL,
        pid           integer     NOT NULL,
        transport     text        NOT NULL,
        relay_enabled boolean     NOT NULL,
        modules       text[]      NOT NULL,
        durable       text[]      NOT NULL,
        best_effort   text[]      NOT NULL,
        started_at    timestamptz NOT NULL DEFAULT now(),
        heartbeat_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE messaging.durable_modules (
        module        text        PRIMARY KEY,
        subscribers   text[]      NOT NULL,
        event_types   text[]      NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz NOT NULL DEFAULT now(),
        last_host     text        NOT NULL
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE messaging.durable_modules');
    await runner.query('DROP TABLE messaging.instances');
  }
}

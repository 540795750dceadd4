import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ordered delivery per key, with no transaction held while handlers run (see the messaging
 * README, "Ordering"):
 * - `outbox.seq`: the relay drains the outbox in insertion order, as numbered by PostgreSQL (not
 *   by a process's clock); with `ordering_key` and `key_seq` on each row.
 * - `ordering_keys`: the last `key_seq` of each event type and key. A producer appending to a key
 *   takes its row lock until commit, so one key's events of a type are numbered 1, 2, 3… in
 *   commit order, without gaps (an aborted transaction gives its numbers back). Per type, because
 *   a subscriber takes one type: it must see every number of its sequence.
 * - `event_log` and `log_cursors`: with the in-process transport the relay moves each claimed
 *   batch into the log, one row per event type, in one short transaction, and each durable
 *   subscriber reads its type's rows from its own cursor (held by one process at a time, under a
 *   lease); rows go once every cursor passed them.
 * - `key_progress`: per subscriber and key, the last `key_seq` handled (or released), written in
 *   the handler's transaction; an event is handled only when it is the next one of its key.
 * - `subscriptions`: when each durable subscriber first started, so a new one starts every key
 *   from the events appended after it.
 * - retries and dead letters keep the key; a retry row may be `held` behind an earlier event of
 *   its key; a dead letter `holds_key` while its key waits for it (the subscriber's rule); a
 *   re-driven dead letter whose key had moved on is `out_of_order` (applied late, on purpose).
 */
export class OrderedDelivery0005 implements MigrationInterface {
  readonly name = '0005-ordered-delivery';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE messaging.outbox ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY, ADD COLUMN ordering_key text, ADD COLUMN key_seq bigint`);
    await runner.query(`ALTER TABLE messaging.outbox DROP CONSTRAINT outbox_pkey, ADD PRIMARY KEY (seq)`);
    await runner.query(`ALTER TABLE messaging.outbox_delivered ADD COLUMN ordering_key text, ADD COLUMN key_seq bigint`);
    await runner.query(`CREATE TABLE messaging.ordering_keys (event_type text NOT NULL, ordering_key text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (event_type, ordering_key))`);
    await runner.query(`
      CREATE TABLE messaging.event_log (
        position   bigint      PRIMARY KEY,
        type       text        NOT NULL,
        events     json        NOT NULL,
        count      integer     NOT NULL,
        logged_at  timestamptz NOT NULL DEFAULT now()
      ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000)`);
    await runner.query(`CREATE SEQUENCE messaging.event_log_position OWNED BY messaging.event_log.position`);
    await runner.query(`
      CREATE TABLE messaging.log_cursors (
        subscriber  text        PRIMARY KEY,
        position    bigint      NOT NULL,
        owner       uuid,
        lease_until timestamptz,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE messaging.key_progress (
        subscriber   text   NOT NULL,
        ordering_key text   NOT NULL,
        seq          bigint NOT NULL,
        PRIMARY KEY (subscriber, ordering_key)
      )`);
    await runner.query(`CREATE INDEX event_log_type_idx ON messaging.event_log (type, position)`);
    await runner.query(`CREATE TABLE messaging.subscriptions (subscriber text PRIMARY KEY, event_type text NOT NULL, started_at timestamptz NOT NULL DEFAULT now())`);
    await runner.query(`ALTER TABLE messaging.retries ADD COLUMN ordering_key text, ADD COLUMN key_seq bigint, ADD COLUMN held boolean NOT NULL DEFAULT false, ADD COLUMN out_of_order boolean NOT NULL DEFAULT false`);
    await runner.query(`CREATE INDEX retries_key_idx ON messaging.retries (subscriber, ordering_key, key_seq) WHERE ordering_key IS NOT NULL`);
    await runner.query(`ALTER TABLE messaging.dead_letters ADD COLUMN ordering_key text, ADD COLUMN key_seq bigint, ADD COLUMN holds_key boolean NOT NULL DEFAULT false`);
    await runner.query(`CREATE INDEX dead_letters_holding_idx ON messaging.dead_letters (subscriber, ordering_key) WHERE holds_key`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX messaging.dead_letters_holding_idx');
    await runner.query('ALTER TABLE messaging.dead_letters DROP COLUMN holds_key, DROP COLUMN key_seq, DROP COLUMN ordering_key');
    await runner.query('DROP INDEX messaging.retries_key_idx');
    await runner.query('ALTER TABLE messaging.retries DROP COLUMN out_of_order, DROP COLUMN held, DROP COLUMN key_seq, DROP COLUMN ordering_key');
    await runner.query('DROP TABLE messaging.subscriptions, messaging.key_progress, messaging.log_cursors, messaging.event_log, messaging.ordering_keys');
    await runner.query('ALTER TABLE messaging.outbox_delivered DROP COLUMN key_seq, DROP COLUMN ordering_key');
    await runner.query('ALTER TABLE messaging.outbox DROP CONSTRAINT outbox_pkey, ADD PRIMARY KEY (id)');
    await runner.query('ALTER TABLE messaging.outbox DROP COLUMN key_seq, DROP COLUMN ordering_key, DROP COLUMN seq');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ConfigurationError } from '@modulith/core';
import type { MigrationClass } from '@modulith/database';

const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * The migration that creates a subscribing module's inbox in its own schema. `InboxMigrations`
 * adds it to each module with durable subscribers; no module lists it itself.
 *
 * One row per handled event and subscriber; the primary key is what makes a redelivered event
 * a no-op, and it is written in the same transaction as the handler's effect.
 */
export function inboxMigration(schema: string): MigrationClass {
  if (!IDENTIFIER.test(schema)) {
    throw new ConfigurationError(`inboxMigration: schema name "${schema}" must be a lower-case SQL identifier`, { schema });
  }
  return class MessagingInboxMigration implements MigrationInterface {
    readonly name = 'messaging-inbox-0001';

    async up(runner: QueryRunner): Promise<void> {
      await runner.query(`
        CREATE TABLE "${schema}".inbox (
          subscriber text        NOT NULL,
          event_id   uuid        NOT NULL,
          handled_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (subscriber, event_id)
        )`);
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`DROP TABLE "${schema}".inbox`);
    }
  };
}

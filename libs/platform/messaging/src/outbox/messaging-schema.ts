import { defineModuleSchema } from '@modulith/database';
import { CreateMessagingTables0001 } from './migrations/0001-create-messaging-tables.migration';

/** The schema the messaging platform owns: outbox, retries, dead letters. */
export const MESSAGING_SCHEMA = 'messaging';

export const messagingSchema = defineModuleSchema({
  module: 'messaging',
  schema: MESSAGING_SCHEMA,
  entities: [],
  migrations: [CreateMessagingTables0001],
});

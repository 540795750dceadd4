import { defineModuleSchema } from '@modulith/database';
import { inboxMigration } from '@modulith/messaging';
import { CreateHourly0001 } from './migrations/0001-create-hourly.migration';

export const analyticsSchema = defineModuleSchema({
  module: 'analytics',
  schema: 'analytics',
  entities: [],
  migrations: [inboxMigration('analytics'), CreateHourly0001],
});

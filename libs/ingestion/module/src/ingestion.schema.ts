import { defineModuleSchema } from '@modulith/database';
import { CreateTransfers0001 } from './migrations/0001-create-transfers.migration';
import { TransferEntity } from './transfer.entity';

export const ingestionSchema = defineModuleSchema({
  module: 'ingestion',
  schema: 'ingestion',
  entities: [TransferEntity],
  migrations: [CreateTransfers0001],
});

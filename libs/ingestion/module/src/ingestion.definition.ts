import { defineModule } from '@modulith/messaging';
import { CreateTransfers0001 } from './migrations/0001-create-transfers.migration';
import { TransferEntity } from './transfer.entity';

/** The ingestion module, declared once. */
export const ingestionDefinition = defineModule({
  name: 'ingestion',
  schema: 'ingestion',
  entities: [TransferEntity],
  migrations: [CreateTransfers0001],
});

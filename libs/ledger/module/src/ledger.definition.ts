import { defineModule } from '@modulith/messaging';
import { CreateLedger0001 } from './migrations/0001-create-ledger.migration';
import { WidenBalances0002 } from './migrations/0002-widen-balances.migration';
import { CreateStatementLines0003 } from './migrations/0003-create-statement-lines.migration';

/** The ledger module, declared once; its inbox comes with its durable subscribers. */
export const ledgerDefinition = defineModule({
  name: 'ledger',
  schema: 'ledger',
  migrations: [CreateLedger0001, WidenBalances0002, CreateStatementLines0003],
});

import { defineModuleSchema } from '@modulith/database';
import { inboxMigration } from '@modulith/messaging';
import { CreateLedger0001 } from './migrations/0001-create-ledger.migration';
import { WidenBalances0002 } from './migrations/0002-widen-balances.migration';
import { CreateStatementLines0003 } from './migrations/0003-create-statement-lines.migration';

export const ledgerSchema = defineModuleSchema({
  module: 'ledger',
  schema: 'ledger',
  entities: [],
  migrations: [inboxMigration('ledger'), CreateLedger0001, WidenBalances0002, CreateStatementLines0003],
});

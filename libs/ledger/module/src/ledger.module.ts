import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DatabaseModule } from '@modulith/database';
import { MessagingModule } from '@modulith/messaging';
import { ApplyTransfersHandler } from './apply-transfers/apply-transfers.handler';
import { FindEntriesHandler } from './find-entries/find-entries.handler';
import { GetBalanceHandler } from './get-balance/get-balance.handler';
import { GetLedgerTotalsHandler } from './get-ledger-totals/get-ledger-totals.handler';
import { AccountsController } from './http/accounts.controller';
import { ledgerSchema } from './ledger.schema';
import { LedgerRepository } from './ledger.repository';

/** Double-entry balances per account and currency, fed by `TransferIngested`. */
@Module({
  imports: [CqrsModule, DatabaseModule.forModule(ledgerSchema), MessagingModule.forModule({ module: 'ledger', schema: 'ledger' })],
  controllers: [AccountsController],
  providers: [LedgerRepository, ApplyTransfersHandler, GetBalanceHandler, FindEntriesHandler, GetLedgerTotalsHandler],
})
export class LedgerModule {}

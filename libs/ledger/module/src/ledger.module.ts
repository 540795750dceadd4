import { Module } from '@nestjs/common';
import { MessagingModule } from '@modulith/messaging';
import { ApplyTransfersHandler } from './apply-transfers/apply-transfers.handler';
import { FindEntriesHandler } from './find-entries/find-entries.handler';
import { GetBalanceHandler } from './get-balance/get-balance.handler';
import { GetLedgerTotalsHandler } from './get-ledger-totals/get-ledger-totals.handler';
import { GetStatementHandler } from './get-statement/get-statement.handler';
import { AccountsController } from './http/accounts.controller';
import { ledgerDefinition } from './ledger.definition';
import { LedgerRepository } from './ledger.repository';
import { RecordStatementHandler } from './record-statement/record-statement.handler';
import { StatementRepository } from './statement.repository';

/** Double-entry balances per account and currency, fed by `TransferIngested`; running statements, fed by its own `BalanceChanged`. */
@Module({
  imports: [MessagingModule.forModule(ledgerDefinition)],
  controllers: [AccountsController],
  providers: [
    LedgerRepository,
    StatementRepository,
    ApplyTransfersHandler,
    RecordStatementHandler,
    GetBalanceHandler,
    FindEntriesHandler,
    GetLedgerTotalsHandler,
    GetStatementHandler,
  ],
})
export class LedgerModule {}

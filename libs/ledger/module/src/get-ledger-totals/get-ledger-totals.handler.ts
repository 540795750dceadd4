import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { GetLedgerTotalsQuery, type LedgerTotals } from '@modulith/ledger/contracts';
import { LedgerRepository } from '../ledger.repository';

@QueryHandler(GetLedgerTotalsQuery)
export class GetLedgerTotalsHandler implements IQueryHandler<GetLedgerTotalsQuery> {
  constructor(private readonly ledger: LedgerRepository) {}

  execute(): Promise<LedgerTotals> {
    return this.ledger.totals();
  }
}

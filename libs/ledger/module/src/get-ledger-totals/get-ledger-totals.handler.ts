import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { GetLedgerTotalsQuery, type LedgerTotals } from '@modulith/ledger/contracts';
import { LedgerRepository } from '../ledger.repository';
import { StatementRepository } from '../statement.repository';

@QueryHandler(GetLedgerTotalsQuery)
export class GetLedgerTotalsHandler implements IQueryHandler<GetLedgerTotalsQuery> {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly statements: StatementRepository,
  ) {}

  async execute(): Promise<LedgerTotals> {
    const [totals, statements] = await Promise.all([this.ledger.totals(), this.statements.check()]);
    return { ...totals, statements };
  }
}

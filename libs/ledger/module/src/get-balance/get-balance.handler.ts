import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { GetBalanceQuery, type AccountBalances } from '@modulith/ledger/contracts';
import { LedgerRepository } from '../ledger.repository';

@QueryHandler(GetBalanceQuery)
export class GetBalanceHandler implements IQueryHandler<GetBalanceQuery> {
  constructor(private readonly ledger: LedgerRepository) {}

  execute({ account }: GetBalanceQuery): Promise<AccountBalances> {
    return this.ledger.balancesOf(account);
  }
}

import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { GetStatementQuery, type StatementPage } from '@modulith/ledger/contracts';
import { StatementRepository } from '../statement.repository';

@QueryHandler(GetStatementQuery)
export class GetStatementHandler implements IQueryHandler<GetStatementQuery> {
  constructor(private readonly statements: StatementRepository) {}

  execute({ account, currency, limit, cursor }: GetStatementQuery): Promise<StatementPage> {
    return this.statements.statementOf(account, currency, limit, cursor);
  }
}

import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { FindEntriesQuery, type LedgerEntryPage } from '@modulith/ledger/contracts';
import { LedgerRepository } from '../ledger.repository';

@QueryHandler(FindEntriesQuery)
export class FindEntriesHandler implements IQueryHandler<FindEntriesQuery> {
  constructor(private readonly ledger: LedgerRepository) {}

  execute({ account, limit, cursor }: FindEntriesQuery): Promise<LedgerEntryPage> {
    return this.ledger.entriesOf(account, limit, cursor);
  }
}

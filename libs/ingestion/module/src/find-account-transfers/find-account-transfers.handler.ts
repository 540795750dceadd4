import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { FindAccountTransfersQuery, type TransferPage } from '@modulith/ingestion/contracts';
import { TransferRepository } from '../transfer.repository';

@QueryHandler(FindAccountTransfersQuery)
export class FindAccountTransfersHandler implements IQueryHandler<FindAccountTransfersQuery> {
  constructor(private readonly transfers: TransferRepository) {}

  execute({ account, limit, cursor }: FindAccountTransfersQuery): Promise<TransferPage> {
    return this.transfers.findByAccount(account, limit, cursor);
  }
}

import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { GetTransferQuery, type TransferView } from '@modulith/ingestion/contracts';
import { TransferRepository } from '../transfer.repository';

@QueryHandler(GetTransferQuery)
export class GetTransferHandler implements IQueryHandler<GetTransferQuery> {
  constructor(private readonly transfers: TransferRepository) {}

  execute({ id }: GetTransferQuery): Promise<TransferView | null> {
    return this.transfers.findById(id);
  }
}

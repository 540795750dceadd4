import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { GetIngestionTotalsQuery, type IngestionTotals } from '@modulith/ingestion/contracts';
import { TransferRepository } from '../transfer.repository';

@QueryHandler(GetIngestionTotalsQuery)
export class GetIngestionTotalsHandler implements IQueryHandler<GetIngestionTotalsQuery> {
  constructor(private readonly transfers: TransferRepository) {}

  execute(): Promise<IngestionTotals> {
    return this.transfers.totals();
  }
}

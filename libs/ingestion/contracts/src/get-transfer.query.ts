import { Query } from '@nestjs/cqrs';
import { PublicQuery } from '@modulith/core';
import type { TransferView } from './transfer';

/** One transfer by id, or null. */
@PublicQuery({ module: 'ingestion', type: 'ingestion.get-transfer' })
export class GetTransferQuery extends Query<TransferView | null> {
  constructor(readonly id: string) {
    super();
  }
}

import { Query } from '@nestjs/cqrs';
import type { TransferView } from './transfer';

/** One transfer by id, or null. */
export class GetTransferQuery extends Query<TransferView | null> {
  constructor(readonly id: string) {
    super();
  }
}

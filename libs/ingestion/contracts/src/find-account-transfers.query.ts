import { Query } from '@nestjs/cqrs';
import type { TransferPage } from './transfer';

/** Transfers from or to an account, newest first, one page at a time. */
export class FindAccountTransfersQuery extends Query<TransferPage> {
  constructor(
    readonly account: string,
    readonly limit: number,
    readonly cursor?: string,
  ) {
    super();
  }
}

import { Query } from '@nestjs/cqrs';
import { PublicQuery } from '@modulith/core';
import type { TransferPage } from './transfer';

/** Transfers from or to an account, newest first, one page at a time. */
@PublicQuery({ module: 'ingestion', type: 'ingestion.find-account-transfers' })
export class FindAccountTransfersQuery extends Query<TransferPage> {
  constructor(
    readonly account: string,
    readonly limit: number,
    readonly cursor?: string,
  ) {
    super();
  }
}

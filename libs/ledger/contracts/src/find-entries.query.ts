import { Query } from '@nestjs/cqrs';
import { PublicQuery } from '@modulith/core';
import type { LedgerEntryPage } from './balance';

/** An account's ledger entries, newest first. */
@PublicQuery({ module: 'ledger', type: 'ledger.find-entries' })
export class FindEntriesQuery extends Query<LedgerEntryPage> {
  constructor(
    readonly account: string,
    readonly limit: number,
    readonly cursor?: string,
  ) {
    super();
  }
}

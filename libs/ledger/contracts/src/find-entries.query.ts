import { Query } from '@nestjs/cqrs';
import type { LedgerEntryPage } from './balance';

/** An account's ledger entries, newest first. */
export class FindEntriesQuery extends Query<LedgerEntryPage> {
  constructor(
    readonly account: string,
    readonly limit: number,
    readonly cursor?: string,
  ) {
    super();
  }
}

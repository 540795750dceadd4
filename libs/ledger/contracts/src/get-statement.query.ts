import { Query } from '@nestjs/cqrs';
import { PublicQuery } from '@modulith/core';
import type { StatementPage } from './statement';

/** An account's running statement in one currency, oldest line first, after `cursor` (an entry sequence number). */
@PublicQuery({ module: 'ledger', type: 'ledger.get-statement' })
export class GetStatementQuery extends Query<StatementPage> {
  constructor(
    readonly account: string,
    readonly currency: string,
    readonly limit: number,
    readonly cursor?: string,
  ) {
    super();
  }
}

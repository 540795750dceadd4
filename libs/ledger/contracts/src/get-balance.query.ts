import { Query } from '@nestjs/cqrs';
import { PublicQuery } from '@modulith/core';
import type { AccountBalances } from './balance';

/** The public, cross-module read of an account's balances. */
@PublicQuery({ module: 'ledger', type: 'ledger.get-balance' })
export class GetBalanceQuery extends Query<AccountBalances> {
  constructor(readonly account: string) {
    super();
  }
}

import { Query } from '@nestjs/cqrs';
import type { AccountBalances } from './balance';

/** The public, cross-module read of an account's balances. */
export class GetBalanceQuery extends Query<AccountBalances> {
  constructor(readonly account: string) {
    super();
  }
}

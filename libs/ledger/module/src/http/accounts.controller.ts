import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { readIntParam, readString } from '@modulith/http';
import { TRANSFER_LIMITS } from '@modulith/ingestion/contracts';
import { FindEntriesQuery, GetBalanceQuery, type AccountBalances, type LedgerEntryPage } from '@modulith/ledger/contracts';

const ID_RULE = 'must be 1-128 characters of letters, digits and -_.:';

@Controller('accounts/:account')
export class AccountsController {
  constructor(private readonly queries: QueryBus) {}

  /** Balances per currency as decimal strings; an unknown account has an empty list. */
  @Get('balances')
  balances(@Param('account') account: string): Promise<AccountBalances> {
    readString(account, 'account', TRANSFER_LIMITS.idPattern, ID_RULE);
    return this.queries.execute(new GetBalanceQuery(account));
  }

  /** Entries newest first, keyset paged by `cursor`. */
  @Get('entries')
  entries(@Param('account') account: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string): Promise<LedgerEntryPage> {
    readString(account, 'account', TRANSFER_LIMITS.idPattern, ID_RULE);
    if (cursor !== undefined) readString(cursor, 'cursor', /^[1-9][0-9]{0,18}$/, 'must be the nextCursor of a previous page');
    return this.queries.execute(new FindEntriesQuery(account, readIntParam(limit, 'limit', 50, 1, 500), cursor));
  }
}

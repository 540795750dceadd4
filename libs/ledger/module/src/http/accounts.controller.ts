import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { BIGINT_CURSOR_SCHEMA, readBigintCursor, readIntParam, readString } from '@modulith/http';
import { TRANSFER_LIMITS } from '@modulith/ingestion/contracts';
import { FindEntriesQuery, GetBalanceQuery, GetStatementQuery, type AccountBalances, type LedgerEntryPage, type StatementPage } from '@modulith/ledger/contracts';

import { AccountBalancesDto, LedgerEntryPageDto, StatementPageDto } from './accounts.dto';

// Stated in the document so that the 400 for an id of 129-256 characters is no surprise (past 256 the router answers 414).
const TRANSFER_ID_SCHEMA = { type: 'string' as const, pattern: TRANSFER_LIMITS.idPattern.source, maxLength: 128 };

@ApiTags('ledger')
@ApiParam({ name: 'account', description: 'Account id (1-128 of letters, digits and -_.:)', schema: TRANSFER_ID_SCHEMA })
@Controller('accounts/:account')
export class AccountsController {
  constructor(private readonly queries: QueryBus) {}

  /** Balances per currency as decimal strings; an unknown account has an empty list. */
  @Get('balances')
  @ApiOperation({ summary: "An account's balance per currency" })
  @ApiOkResponse({ type: AccountBalancesDto })
  @ApiBadRequestResponse({ description: 'Malformed account id' })
  balances(@Param('account') account: string): Promise<AccountBalances> {
    readString(account, 'account', TRANSFER_LIMITS.idPattern, TRANSFER_LIMITS.idRule);
    return this.queries.execute(new GetBalanceQuery(account));
  }

  /** Entries newest first, keyset paged by `cursor`. */
  @Get('entries')
  @ApiOperation({ summary: "An account's ledger entries, newest first, keyset paged" })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } })
  @ApiQuery({ name: 'cursor', required: false, description: BIGINT_CURSOR_SCHEMA.description, schema: BIGINT_CURSOR_SCHEMA })
  @ApiOkResponse({ type: LedgerEntryPageDto })
  @ApiBadRequestResponse({ description: 'Malformed account, limit or cursor' })
  entries(@Param('account') account: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string): Promise<LedgerEntryPage> {
    readString(account, 'account', TRANSFER_LIMITS.idPattern, TRANSFER_LIMITS.idRule);
    const after = readBigintCursor(cursor, 'cursor');
    return this.queries.execute(new FindEntriesQuery(account, readIntParam(limit, 'limit', 50, 1, 500), after));
  }

  /** The running statement of one currency, oldest line first, keyset paged by `cursor`. */
  @Get('statements/:currency')
  @ApiOperation({ summary: "An account's running statement in one currency, oldest line first, keyset paged" })
  @ApiParam({ name: 'currency', description: 'ISO 4217 code such as EUR', schema: { type: 'string', pattern: '^[A-Z]{3}$' } })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } })
  @ApiQuery({ name: 'cursor', required: false, description: BIGINT_CURSOR_SCHEMA.description, schema: BIGINT_CURSOR_SCHEMA })
  @ApiOkResponse({ type: StatementPageDto })
  @ApiBadRequestResponse({ description: 'Malformed account, currency, limit or cursor' })
  statement(
    @Param('account') account: string,
    @Param('currency') currency: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<StatementPage> {
    readString(account, 'account', TRANSFER_LIMITS.idPattern, TRANSFER_LIMITS.idRule);
    readString(currency, 'currency', /^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');
    const after = readBigintCursor(cursor, 'cursor');
    return this.queries.execute(new GetStatementQuery(account, currency, readIntParam(limit, 'limit', 50, 1, 500), after));
  }
}

import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { NotFoundError, PayloadTooLargeError, ValidationError } from '@modulith/core';
import { BIGINT_CURSOR_SCHEMA, fieldPath, readArray, readBigintCursor, readIntParam, readObject, readString } from '@modulith/http';
import {
  FindAccountTransfersQuery,
  GetTransferQuery,
  IngestTransfersCommand,
  TRANSFER_LIMITS,
  type IngestResult,
  type TransferPage,
  type TransferView,
} from '@modulith/ingestion/contracts';
import { parseTransfer } from '../transfer.rules';
import { IngestResultDto, TransferBatchDto, TransferDto, TransferPageDto, TransferViewDto } from './transfer.dto';

// Stated in the document so that the 400 for an id of 129-256 characters is no surprise (past 256 the router answers 414).
const TRANSFER_ID_SCHEMA = { type: 'string' as const, pattern: TRANSFER_LIMITS.idPattern.source, maxLength: 128 };

interface StatusReply {
  status(code: number): unknown;
}

@ApiTags('ingestion')
@Controller()
export class TransfersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** One transfer. 201 when stored, 200 when it is an identical repeat, 409 when the id holds other content. */
  @Post('transfers')
  @ApiOperation({ summary: 'Ingest one transfer', description: '201 when stored, 200 when it is an identical repeat, 409 when the id holds other content.' })
  @ApiBody({ type: TransferDto })
  @ApiCreatedResponse({ type: TransferViewDto, description: 'Stored' })
  @ApiOkResponse({ type: TransferViewDto, description: 'An identical repeat: nothing changed' })
  @ApiBadRequestResponse({ description: 'Invalid transfer; the message names the field' })
  @ApiConflictResponse({ description: 'The id is taken by a transfer with other content' })
  @ApiPayloadTooLargeResponse({ description: 'Body larger than HTTP_BODY_LIMIT_BYTES' })
  @ApiUnsupportedMediaTypeResponse({ description: 'Not application/json' })
  async ingestOne(@Body() body: unknown, @Res({ passthrough: true }) reply: StatusReply): Promise<TransferView> {
    const transfer = parseTransfer(body);
    const result = await this.commands.execute(new IngestTransfersCommand([transfer]));
    reply.status(result.accepted === 1 ? 201 : 200);
    const stored = await this.queries.execute(new GetTransferQuery(transfer.id));
    if (!stored) throw new NotFoundError(`transfer "${transfer.id}" vanished after it was stored`, { id: transfer.id });
    return stored;
  }

  /** Up to 10,000 transfers, all or nothing. */
  @Post('transfers/batch')
  @HttpCode(201)
  @ApiOperation({ summary: 'Ingest up to 10,000 transfers, all or nothing' })
  @ApiBody({ type: TransferBatchDto })
  @ApiCreatedResponse({ type: IngestResultDto, description: 'Stored; identical repeats counted as replayed' })
  @ApiBadRequestResponse({ description: 'An invalid transfer (`transfers[3].amount: ...`); nothing is written' })
  @ApiConflictResponse({ description: 'An id is taken by a transfer with other content; nothing is written' })
  @ApiPayloadTooLargeResponse({ description: 'More than 10,000 transfers, or a body larger than HTTP_BODY_LIMIT_BYTES' })
  @ApiUnsupportedMediaTypeResponse({ description: 'Not application/json' })
  ingestBatch(@Body() body: unknown): Promise<IngestResult> {
    const items = readArray(readObject(body, '', ['transfers'])['transfers'], 'transfers');
    if (items.length === 0) throw new ValidationError('transfers', 'must hold at least one transfer');
    if (items.length > TRANSFER_LIMITS.maxBatchSize) {
      throw new PayloadTooLargeError(`transfers: at most ${TRANSFER_LIMITS.maxBatchSize} per request, got ${items.length}`, {
        field: 'transfers',
      });
    }
    const transfers = items.map((item, index) => parseTransfer(item, fieldPath('transfers', index)));
    return this.commands.execute(new IngestTransfersCommand(transfers));
  }

  @Get('transfers/:id')
  @ApiOperation({ summary: 'One transfer by id' })
  @ApiParam({ name: 'id', description: 'The transfer id (1-128 of letters, digits and -_.:)', schema: TRANSFER_ID_SCHEMA })
  @ApiOkResponse({ type: TransferViewDto })
  @ApiBadRequestResponse({ description: 'Malformed id' })
  @ApiNotFoundResponse({ description: 'No such transfer' })
  async getOne(@Param('id') id: string): Promise<TransferView> {
    readString(id, 'id', TRANSFER_LIMITS.idPattern, TRANSFER_LIMITS.idRule);
    const transfer = await this.queries.execute(new GetTransferQuery(id));
    if (!transfer) throw new NotFoundError(`transfer "${id}" not found`, { id });
    return transfer;
  }

  /** Transfers from or to an account, newest first. */
  @Get('accounts/:account/transfers')
  @ApiOperation({ summary: 'Transfers from or to an account, newest first, keyset paged' })
  @ApiParam({ name: 'account', description: 'Account id (1-128 of letters, digits and -_.:)', schema: TRANSFER_ID_SCHEMA })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } })
  @ApiQuery({ name: 'cursor', required: false, description: BIGINT_CURSOR_SCHEMA.description, schema: BIGINT_CURSOR_SCHEMA })
  @ApiOkResponse({ type: TransferPageDto })
  @ApiBadRequestResponse({ description: 'Malformed account, limit or cursor' })
  listByAccount(
    @Param('account') account: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<TransferPage> {
    readString(account, 'account', TRANSFER_LIMITS.idPattern, TRANSFER_LIMITS.idRule);
    const after = readBigintCursor(cursor, 'cursor');
    return this.queries.execute(new FindAccountTransfersQuery(account, readIntParam(limit, 'limit', 50, 1, 500), after));
  }
}

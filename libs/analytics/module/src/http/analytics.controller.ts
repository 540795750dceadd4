import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ValidationError } from '@modulith/core';
import { GetHourlyVolumeQuery, HOURLY_PAGE, type HourlyVolume } from '@modulith/analytics/contracts';
import { readInstant, readIntParam, readString } from '@modulith/http';
import { CURRENCY_CODES, isCurrencyCode } from '@modulith/ingestion/contracts';
import { HourlyVolumeDto } from './hourly-volume.dto';

function readBound(value: string | undefined, field: string): string | undefined {
  return value === undefined || value === '' ? undefined : readInstant(value, field, { allowDate: true });
}

@ApiTags('analytics')
@Controller('analytics')
export class AnalyticsController {
  constructor(private readonly queries: QueryBus) {}

  /** Hourly count, volume and largest transfer per currency; `from` inclusive, `to` exclusive; paged by `cursor`. */
  @Get('hourly')
  @ApiOperation({
    summary: 'Hourly count, volume and largest transfer per currency, in (hour, currency) order, paged',
    description: '`from` inclusive, `to` exclusive. At most `limit` buckets a page; `nextCursor` is null on the last page and otherwise is passed back as `cursor`.',
  })
  @ApiQuery({ name: 'currency', required: false, description: 'ISO 4217 code; all currencies when absent', schema: { type: 'string', enum: [...CURRENCY_CODES].sort() }, example: 'EUR' })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601 date or date-time with a time zone', schema: { type: 'string' }, example: '2026-01-01' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601 date or date-time with a time zone', schema: { type: 'string' }, example: '2026-01-02' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: HOURLY_PAGE.maxLimit, default: HOURLY_PAGE.defaultLimit } })
  @ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page (opaque)', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } })
  @ApiOkResponse({ type: HourlyVolumeDto })
  @ApiBadRequestResponse({ description: 'Unknown currency, malformed instant, `to` not after `from`, bad limit or cursor; the message names the field' })
  hourly(
    @Query('currency') currency?: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<HourlyVolume> {
    if (currency !== undefined && currency !== '') {
      readString(currency, 'currency', /^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');
      if (!isCurrencyCode(currency)) throw new ValidationError('currency', `"${currency}" is not an ISO 4217 currency code`);
    }
    const start = readBound(from, 'from');
    const end = readBound(to, 'to');
    if (start && end && start >= end) throw new ValidationError('to', 'must be after from');
    const size = readIntParam(limit, 'limit', HOURLY_PAGE.defaultLimit, 1, HOURLY_PAGE.maxLimit);
    return this.queries.execute(new GetHourlyVolumeQuery(currency || undefined, start, end, size, cursor === '' ? undefined : cursor));
  }
}

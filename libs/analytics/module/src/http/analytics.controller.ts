import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ValidationError } from '@modulith/core';
import { GetHourlyVolumeQuery, type HourlyVolume } from '@modulith/analytics/contracts';
import { readInstant, readString } from '@modulith/http';
import { isCurrencyCode } from '@modulith/ingestion/contracts';
import { HourlyVolumeDto } from './hourly-volume.dto';

function readBound(value: string | undefined, field: string): string | undefined {
  return value === undefined || value === '' ? undefined : readInstant(value, field, { allowDate: true });
}

@ApiTags('analytics')
@Controller('analytics')
export class AnalyticsController {
  constructor(private readonly queries: QueryBus) {}

  /** Hourly count, volume and largest transfer per currency; `from` inclusive, `to` exclusive. */
  @Get('hourly')
  @ApiOperation({ summary: 'Hourly count, volume and largest transfer per currency', description: '`from` inclusive, `to` exclusive.' })
  @ApiQuery({ name: 'currency', required: false, description: 'ISO 4217 code; all currencies when absent', example: 'EUR' })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601 date or date-time with a time zone', example: '2026-01-01' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601 date or date-time with a time zone', example: '2026-01-02' })
  @ApiOkResponse({ type: HourlyVolumeDto })
  @ApiBadRequestResponse({ description: 'Unknown currency, malformed instant, or `to` not after `from`' })
  hourly(@Query('currency') currency?: string, @Query('from') from?: string, @Query('to') to?: string): Promise<HourlyVolume> {
    if (currency !== undefined && currency !== '') {
      readString(currency, 'currency', /^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');
      if (!isCurrencyCode(currency)) throw new ValidationError('currency', `"${currency}" is not an ISO 4217 currency code`);
    }
    const start = readBound(from, 'from');
    const end = readBound(to, 'to');
    if (start && end && start >= end) throw new ValidationError('to', 'must be after from');
    return this.queries.execute(new GetHourlyVolumeQuery(currency || undefined, start, end));
  }
}

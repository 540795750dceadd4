import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ValidationError } from '@modulith/core';
import { GetHourlyVolumeQuery, type HourlyVolume } from '@modulith/analytics/contracts';
import { readString } from '@modulith/http';
import { isCurrencyCode } from '@modulith/ingestion/contracts';

function readInstant(value: string | undefined, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2}))?$/.test(value) || Number.isNaN(time)) {
    throw new ValidationError(field, 'must be an ISO 8601 date or date-time with a time zone');
  }
  return new Date(time).toISOString();
}

@Controller('analytics')
export class AnalyticsController {
  constructor(private readonly queries: QueryBus) {}

  /** Hourly count, volume and largest transfer per currency; `from` inclusive, `to` exclusive. */
  @Get('hourly')
  hourly(@Query('currency') currency?: string, @Query('from') from?: string, @Query('to') to?: string): Promise<HourlyVolume> {
    if (currency !== undefined && currency !== '') {
      readString(currency, 'currency', /^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');
      if (!isCurrencyCode(currency)) throw new ValidationError('currency', `"${currency}" is not an ISO 4217 currency code`);
    }
    const start = readInstant(from, 'from');
    const end = readInstant(to, 'to');
    if (start && end && start >= end) throw new ValidationError('to', 'must be after from');
    return this.queries.execute(new GetHourlyVolumeQuery(currency || undefined, start, end));
  }
}

import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ValidationError } from '@modulith/core';
import { GetHourlyVolumeQuery, HOURLY_PAGE, type HourlyVolume } from '@modulith/analytics/contracts';
import { AnalyticsRepository } from '../analytics.repository';
import { decodeHourlyCursor, encodeHourlyCursor } from './hourly-cursor';

@QueryHandler(GetHourlyVolumeQuery)
export class GetHourlyVolumeHandler implements IQueryHandler<GetHourlyVolumeQuery> {
  constructor(private readonly analytics: AnalyticsRepository) {}

  async execute({ currency, from, to, limit, cursor }: GetHourlyVolumeQuery): Promise<HourlyVolume> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > HOURLY_PAGE.maxLimit) {
      throw new ValidationError('limit', `must be an integer between 1 and ${HOURLY_PAGE.maxLimit}`);
    }
    const after = cursor === undefined ? undefined : decodeHourlyCursor(cursor);
    const { buckets, more } = await this.analytics.hourly({ currency, from, to }, limit, after);
    const last = buckets[buckets.length - 1];
    return { buckets, nextCursor: more && last ? encodeHourlyCursor(last) : null };
  }
}

import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { GetHourlyVolumeQuery, type HourlyVolume } from '@modulith/analytics/contracts';
import { AnalyticsRepository } from '../analytics.repository';

@QueryHandler(GetHourlyVolumeQuery)
export class GetHourlyVolumeHandler implements IQueryHandler<GetHourlyVolumeQuery> {
  constructor(private readonly analytics: AnalyticsRepository) {}

  async execute({ currency, from, to }: GetHourlyVolumeQuery): Promise<HourlyVolume> {
    return { buckets: await this.analytics.hourly(currency, from, to) };
  }
}

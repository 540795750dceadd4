import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { GetAnalyticsTotalsQuery, type AnalyticsTotals } from '@modulith/analytics/contracts';
import { AnalyticsRepository } from '../analytics.repository';

@QueryHandler(GetAnalyticsTotalsQuery)
export class GetAnalyticsTotalsHandler implements IQueryHandler<GetAnalyticsTotalsQuery> {
  constructor(private readonly analytics: AnalyticsRepository) {}

  execute(): Promise<AnalyticsTotals> {
    return this.analytics.totals();
  }
}

import { Query } from '@nestjs/cqrs';
import { PublicQuery } from '@modulith/core';
import type { AnalyticsTotals } from './hourly-bucket';

@PublicQuery({ module: 'analytics', type: 'analytics.get-analytics-totals' })
export class GetAnalyticsTotalsQuery extends Query<AnalyticsTotals> {}

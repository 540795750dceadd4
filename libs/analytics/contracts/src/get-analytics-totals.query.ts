import { Query } from '@nestjs/cqrs';
import type { AnalyticsTotals } from './hourly-bucket';

export class GetAnalyticsTotalsQuery extends Query<AnalyticsTotals> {}

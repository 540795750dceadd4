import { Query } from '@nestjs/cqrs';
import type { HourlyVolume } from './hourly-bucket';

/** Hourly buckets, optionally of one currency, between `from` (inclusive) and `to` (exclusive). */
export class GetHourlyVolumeQuery extends Query<HourlyVolume> {
  constructor(
    readonly currency?: string,
    readonly from?: string,
    readonly to?: string,
  ) {
    super();
  }
}

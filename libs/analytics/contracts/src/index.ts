/** @modulith/analytics/contracts — hourly volume per currency and the totals the invariant check reads. */
export { GetHourlyVolumeQuery, HOURLY_PAGE } from './get-hourly-volume.query';
export { GetAnalyticsTotalsQuery } from './get-analytics-totals.query';
export type { HourlyBucket, HourlyVolume, AnalyticsTotals } from './hourly-bucket';

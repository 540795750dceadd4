import { Query } from '@nestjs/cqrs';
import { PublicQuery } from '@modulith/core';
import type { HourlyVolume } from './hourly-bucket';

/** Page sizes of `GetHourlyVolumeQuery`, in buckets. */
export const HOURLY_PAGE = { defaultLimit: 1000, maxLimit: 10_000 } as const;

/**
 * Hourly buckets in (hour, currency) order, optionally of one currency, between `from`
 * (inclusive) and `to` (exclusive): at most `limit` of them, after `cursor` (the `nextCursor` of
 * the previous page). A malformed cursor is a `ValidationError` naming `cursor`.
 */
@PublicQuery({ module: 'analytics', type: 'analytics.get-hourly-volume' })
export class GetHourlyVolumeQuery extends Query<HourlyVolume> {
  constructor(
    readonly currency?: string,
    readonly from?: string,
    readonly to?: string,
    readonly limit: number = HOURLY_PAGE.defaultLimit,
    readonly cursor?: string,
  ) {
    super();
  }
}

/** Transfers of one currency whose `occurredAt` falls in one UTC hour. */
export interface HourlyBucket {
  /** Start of the hour, ISO 8601 UTC. */
  hour: string;
  currency: string;
  count: number;
  /** Sum of amounts, as a decimal string (may exceed 64 bits). */
  volume: string;
  /** The largest single amount, as a decimal string. */
  largest: string;
}

/** One page of buckets; never cut short without saying so. */
export interface HourlyVolume {
  buckets: HourlyBucket[];
  /** Opaque: pass back as `cursor` for the next page; null when this page is the last. */
  nextCursor: string | null;
}

/** What the invariant check reads from analytics. */
export interface AnalyticsTotals {
  /** Sum of all bucket counts: must equal the number of transfers. */
  transfersCounted: number;
  /** Per currency: count and volume over all hours. */
  byCurrency: { currency: string; count: number; volume: string }[];
}

import { Query } from '@nestjs/cqrs';
import { PublicQuery } from '@modulith/core';

/** What the invariant check recomputes from ingestion's own rows. */
export interface IngestionTotals {
  transfers: number;
  byCurrency: { currency: string; count: number; volume: string }[];
  /** Credits minus debits per account and currency, recomputed from the transfers. */
  netByAccount: { account: string; currency: string; net: string }[];
}

@PublicQuery({ module: 'ingestion', type: 'ingestion.get-ingestion-totals' })
export class GetIngestionTotalsQuery extends Query<IngestionTotals> {}

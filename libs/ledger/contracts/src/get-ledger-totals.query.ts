import { Query } from '@nestjs/cqrs';
import type { LedgerTotals } from './balance';

/** Totals the invariant check compares with ingestion's transfers. */
export class GetLedgerTotalsQuery extends Query<LedgerTotals> {}

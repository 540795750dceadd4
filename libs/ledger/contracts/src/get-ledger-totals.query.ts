import { Query } from '@nestjs/cqrs';
import { PublicQuery } from '@modulith/core';
import type { LedgerTotals } from './balance';

/** Totals the invariant check compares with ingestion's transfers. */
@PublicQuery({ module: 'ledger', type: 'ledger.get-ledger-totals' })
export class GetLedgerTotalsQuery extends Query<LedgerTotals> {}

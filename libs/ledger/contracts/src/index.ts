/**
 * @modulith/ledger/contracts — the public surface of the ledger: balances and entries, the
 * `GetBalanceQuery` other modules may send, running statements, and the `BalanceChanged` event it
 * publishes (ordered per account and currency).
 */
export { BalanceChanged } from './balance-changed.event';
export type { BalanceChangedPayload } from './balance-changed.event';
export { GetBalanceQuery } from './get-balance.query';
export { FindEntriesQuery } from './find-entries.query';
export { GetLedgerTotalsQuery } from './get-ledger-totals.query';
export { GetStatementQuery } from './get-statement.query';
export type { AccountBalances, BalanceAtEntry, CurrencyBalance, LedgerEntry, LedgerEntryPage, LedgerTotals } from './balance';
export type { StatementLineView, StatementPage, StatementTotals } from './statement';

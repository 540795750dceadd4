/**
 * @modulith/ledger/contracts — the public surface of the ledger: balances and entries, the
 * `GetBalanceQuery` other modules may send, and the `BalanceChanged` event it publishes.
 */
export { BalanceChanged } from './balance-changed.event';
export type { BalanceChangedPayload } from './balance-changed.event';
export { GetBalanceQuery } from './get-balance.query';
export { FindEntriesQuery } from './find-entries.query';
export { GetLedgerTotalsQuery } from './get-ledger-totals.query';
export type { AccountBalances, CurrencyBalance, LedgerEntry, LedgerEntryPage, LedgerTotals } from './balance';

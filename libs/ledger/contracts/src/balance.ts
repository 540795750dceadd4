import type { StatementTotals } from './statement';

/** One currency's balance of an account; `balance` is a signed integer of any size, as a decimal string (parse with `BigInt`). */
export interface CurrencyBalance {
  currency: string;
  balance: string;
}

/** One currency's balance of an account as of its last ledger entry. */
export interface BalanceAtEntry extends CurrencyBalance {
  /**
   * `seq` of the balance's last entry, a decimal string: the `entrySeq` of the `BalanceChanged` that
   * set it. A change with a higher `entrySeq` came after this balance (how a reader joins a
   * snapshot to the live changes with no gap and no overlap).
   */
  entrySeq: string;
}

/** An account's balances; an unknown account has an empty list. */
export interface AccountBalances {
  account: string;
  balances: BalanceAtEntry[];
}

/** One side of a transfer as the ledger recorded it: negative for a debit, positive for a credit. */
export interface LedgerEntry {
  /** Increases in the order entries were committed for the account. */
  seq: string;
  transferId: string;
  account: string;
  currency: string;
  amount: string;
  balanceAfter: string;
  recordedAt: string;
}

export interface LedgerEntryPage {
  items: LedgerEntry[];
  nextCursor: string | null;
}

/** What the invariant check reads from the ledger. */
export interface LedgerTotals {
  /** Transfers applied (each must show exactly two entries). */
  transfersApplied: number;
  /** Transfers with other than exactly one debit and one credit entry. */
  malformedTransfers: number;
  /** Per currency: the sum of all balances (must be zero). */
  sumByCurrency: CurrencyBalance[];
  /** Every balance, for comparison with ingestion's transfers. */
  balances: { account: string; currency: string; balance: string }[];
  /** The running statements, checked by the ledger against its entries and balances. */
  statements: StatementTotals;
}

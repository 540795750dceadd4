/** One line of a balance's running statement: an entry and the balance right after it. */
export interface StatementLineView {
  /** The ledger entry's sequence number. */
  entrySeq: string;
  /** Negative for a debit, positive for a credit. */
  amount: string;
  /** The previous line's `balanceAfter` plus `amount`; a signed integer of any size. */
  balanceAfter: string;
}

/** A page of one account's statement in one currency, oldest line first. */
export interface StatementPage {
  account: string;
  currency: string;
  lines: StatementLineView[];
  nextCursor: string | null;
}

/** The running statements checked against the ledger's own entries and balances. */
export interface StatementTotals {
  /** Balances (account and currency) that have a statement. */
  statements: number;
  lines: number;
  /**
   * Balances whose statement is wrong: a line missing, extra or not matching its entry, a
   * `balanceAfter` that is not the previous one plus the amount, or a last line that is not the
   * balance.
   */
  broken: number;
  /** Up to five of the problems, e.g. `EUR acc-7: line 12: balance_after 10, previous + amount 7`. */
  problems: string[];
}

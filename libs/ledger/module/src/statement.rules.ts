import type { BalanceChangedPayload } from '@modulith/ledger/contracts';
import { balanceKey } from './posting.rules';

/** The last line of a balance's statement. */
export interface StatementHead {
  entrySeq: bigint;
  balanceAfter: bigint;
}

/** One line of a running statement: an entry and the balance right after it. */
export interface StatementLine {
  account: string;
  currency: string;
  entrySeq: bigint;
  amount: bigint;
  balanceAfter: bigint;
}

/**
 * Appends each change to its balance's statement, in the order given: a line's balance is the
 * previous line's plus its delta (zero before the first line). So the statement is right only
 * if each balance's changes come in commit order, none twice and none missing, which the
 * platform promises for an ordering key and the invariant check verifies against the ledger.
 * A change at or before its statement's last entry is `stale` and left out: it can only be one
 * already copied in when the statement table was created (or a change delivered out of order,
 * which then shows as a line missing from the statement).
 */
export function appendToStatements(
  heads: ReadonlyMap<string, StatementHead>,
  changes: readonly BalanceChangedPayload[],
): { lines: StatementLine[]; stale: BalanceChangedPayload[] } {
  const running = new Map(heads);
  const lines: StatementLine[] = [];
  const stale: BalanceChangedPayload[] = [];
  for (const change of changes) {
    const key = balanceKey(change.account, change.currency);
    const head = running.get(key);
    const entrySeq = BigInt(change.entrySeq);
    if (head && entrySeq <= head.entrySeq) {
      stale.push(change);
      continue;
    }
    const amount = BigInt(change.delta);
    const line = { account: change.account, currency: change.currency, entrySeq, amount, balanceAfter: (head?.balanceAfter ?? 0n) + amount };
    running.set(key, line);
    lines.push(line);
  }
  return { lines, stale };
}

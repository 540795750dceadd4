import type { TransferIngestedPayload } from '@modulith/ingestion/contracts';

/** One side of a transfer: a debit (negative) or a credit (positive) to an account. */
export interface Posting {
  transferId: string;
  account: string;
  currency: string;
  amount: bigint;
}

/** A posting once applied: the balance right after it, and its entry's sequence number. */
export interface AppliedPosting extends Posting {
  balanceAfter: bigint;
}

/** Double entry: every transfer debits `from` and credits `to` by the same amount. */
export function postingsFor(transfers: readonly TransferIngestedPayload[]): Posting[] {
  return transfers.flatMap((transfer) => {
    const amount = BigInt(transfer.amount);
    return [
      { transferId: transfer.transferId, account: transfer.from, currency: transfer.currency, amount: -amount },
      { transferId: transfer.transferId, account: transfer.to, currency: transfer.currency, amount },
    ];
  });
}

export const balanceKey = (account: string, currency: string): string => `${currency}\u0000${account}`;

/** Net change per account and currency, sorted by key so concurrent writers lock rows in one order. */
export function netChanges(postings: readonly Posting[]): { account: string; currency: string; delta: bigint }[] {
  const totals = new Map<string, { account: string; currency: string; delta: bigint }>();
  for (const posting of postings) {
    const key = balanceKey(posting.account, posting.currency);
    const total = totals.get(key) ?? { account: posting.account, currency: posting.currency, delta: 0n };
    total.delta += posting.amount;
    totals.set(key, total);
  }
  return [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, total]) => total);
}

/**
 * Given the balances after the whole batch, works back to the balance after each posting:
 * the last posting of an account ends at the new balance, each earlier one before the later ones.
 */
export function withBalancesAfter(postings: readonly Posting[], finalBalances: ReadonlyMap<string, bigint>): AppliedPosting[] {
  const running = new Map(finalBalances);
  const applied: AppliedPosting[] = new Array(postings.length);
  for (let index = postings.length - 1; index >= 0; index--) {
    const posting = postings[index];
    const key = balanceKey(posting.account, posting.currency);
    const after = running.get(key);
    if (after === undefined) throw new Error(`no final balance for ${posting.account}/${posting.currency}`);
    applied[index] = { ...posting, balanceAfter: after };
    running.set(key, after - posting.amount);
  }
  return applied;
}

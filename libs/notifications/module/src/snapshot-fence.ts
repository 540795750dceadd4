import type { BalanceChangedPayload } from '@modulith/ledger/contracts';

/** One balance as a snapshot read it: `entrySeq` is the ledger entry that set it (a decimal string). */
export interface BalanceSnapshot {
  account: string;
  currency: string;
  balance: string;
  entrySeq: string;
}

/** What to do with a live change: send it now, keep it until its account's snapshot arrives, or skip it (the client has it). */
export type Admission = 'send' | 'held' | 'skip';

/**
 * One connection's join of balance snapshots to the live `BalanceChanged` stream, by `entrySeq`
 * per account and currency, so the client sees no gap and no overlap:
 *
 * - from `hold(account)` until `release(account, snapshot)` (the snapshot is read meanwhile), that
 *   account's live changes are held, in arrival order;
 * - `release` returns the held changes above the snapshot's entrySeq of their balance and drops
 *   the rest (the snapshot already shows them);
 * - from then on a change at or below the last entrySeq the client has for its balance is skipped.
 *
 * Why no change is missed: a change reaches this process only after it committed, and a snapshot
 * read after the change arrived sees that commit. So a change above the snapshot committed after
 * the read, and arrives after `hold`: it is held or sent, never lost.
 *
 * At most `capacity` changes are held for the whole connection. Past it every held change is
 * discarded and every held account marked overflowed (`needsReread`): its snapshot must be read
 * again, and that later read covers what was discarded (each discarded change arrived, so it had
 * committed, before the new read began).
 */
export class SnapshotFence {
  private readonly held = new Map<string, BalanceChangedPayload[]>();
  private heldCount = 0;
  private readonly overflowed = new Set<string>();
  /** Per account, per currency: the highest entrySeq the client has. */
  private readonly lastSent = new Map<string, Map<string, bigint>>();

  constructor(private readonly capacity: number) {}

  /** Changes held now, over all accounts. */
  get holding(): number {
    return this.heldCount;
  }

  /** Starts holding `account`'s changes until its snapshot is released. */
  hold(account: string): void {
    if (!this.held.has(account)) this.held.set(account, []);
  }

  /** Whether changes held for `account` were discarded, so the snapshot read since `hold` (or the last re-read) may miss them. */
  needsReread(account: string): boolean {
    return this.overflowed.has(account);
  }

  /** Call before reading `account`'s snapshot again: the read about to start covers every discarded change. */
  rereading(account: string): void {
    this.overflowed.delete(account);
  }

  /** Decides about one live change of a followed account. */
  admit(change: BalanceChangedPayload): Admission {
    const waiting = this.held.get(change.account);
    if (!waiting) return this.advance(change) ? 'send' : 'skip';
    if (this.heldCount >= this.capacity) this.discardHeld();
    waiting.push(change);
    this.heldCount += 1;
    return 'held';
  }

  /**
   * Ends holding `account`: records the snapshot as what the client has, and returns the held
   * changes newer than it, in arrival order (to send right after the snapshot).
   */
  release(account: string, snapshot: readonly BalanceSnapshot[]): BalanceChangedPayload[] {
    const waiting = this.held.get(account) ?? [];
    this.held.delete(account);
    this.heldCount -= waiting.length;
    this.overflowed.delete(account);
    const marks = new Map<string, bigint>();
    for (const balance of snapshot) marks.set(balance.currency, BigInt(balance.entrySeq));
    this.lastSent.set(account, marks);
    return waiting.filter((change) => this.advance(change));
  }

  /** Forgets everything about `account` (unfollowed). */
  forget(account: string): void {
    this.heldCount -= this.held.get(account)?.length ?? 0;
    this.held.delete(account);
    this.overflowed.delete(account);
    this.lastSent.delete(account);
  }

  /** Records `change` as sent unless the client has it or something newer of its balance already. */
  private advance(change: BalanceChangedPayload): boolean {
    const seq = BigInt(change.entrySeq);
    let marks = this.lastSent.get(change.account);
    if (!marks) this.lastSent.set(change.account, (marks = new Map()));
    const last = marks.get(change.currency);
    if (last !== undefined && seq <= last) return false;
    marks.set(change.currency, seq);
    return true;
  }

  private discardHeld(): void {
    for (const [account, waiting] of this.held) {
      if (waiting.length > 0) this.overflowed.add(account);
      waiting.length = 0;
    }
    this.heldCount = 0;
  }
}

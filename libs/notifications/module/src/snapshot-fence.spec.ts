import type { BalanceChangedPayload } from '@modulith/ledger/contracts';
import { SnapshotFence, type BalanceSnapshot } from './snapshot-fence';

const change = (account: string, entrySeq: number, currency = 'EUR'): BalanceChangedPayload => ({
  account,
  currency,
  balance: String(entrySeq * 10),
  delta: '10',
  transferId: `t-${entrySeq}`,
  entrySeq: String(entrySeq),
});
const balance = (account: string, entrySeq: number, currency = 'EUR'): BalanceSnapshot => ({ account, currency, balance: String(entrySeq * 10), entrySeq: String(entrySeq) });
const seqs = (changes: BalanceChangedPayload[]) => changes.map((c) => `${c.currency}:${c.entrySeq}`);

describe('SnapshotFence', () => {
  it('given an account whose snapshot is read, when changes arrive meanwhile, then they are held and only those above the snapshot are released, in arrival order', () => {
    const fence = new SnapshotFence(100);
    fence.hold('alice');

    const admitted = [change('alice', 3), change('alice', 4), change('alice', 5), change('alice', 6), change('alice', 1, 'USD')].map((c) => fence.admit(c));

    expect(admitted).toEqual(['held', 'held', 'held', 'held', 'held']);
    expect(fence.holding).toBe(5);
    expect(seqs(fence.release('alice', [balance('alice', 4), balance('alice', 1, 'USD')]))).toEqual(['EUR:5', 'EUR:6']);
    expect(fence.holding).toBe(0);
  });

  it('given a released snapshot, when changes the snapshot already shows arrive late, then they are skipped and newer ones sent', () => {
    const fence = new SnapshotFence(100);
    fence.hold('alice');
    fence.release('alice', [balance('alice', 10)]);

    // The relay lags behind the ledger: the snapshot saw commits whose events come only now.
    expect([8, 9, 10, 11, 12].map((seq) => fence.admit(change('alice', seq)))).toEqual(['skip', 'skip', 'skip', 'send', 'send']);
    expect(fence.admit(change('alice', 12))).toBe('skip'); // a duplicate
  });

  it('given a currency the snapshot did not have, then all its changes are new', () => {
    const fence = new SnapshotFence(100);
    fence.hold('alice');
    fence.admit(change('alice', 20, 'GBP'));
    expect(seqs(fence.release('alice', []))).toEqual(['GBP:20']);
    expect(fence.admit(change('alice', 21, 'GBP'))).toBe('send');
  });

  it('holds only accounts being read: others pass at once', () => {
    const fence = new SnapshotFence(100);
    fence.hold('bob');
    fence.release('bob', []);
    fence.hold('alice');

    expect(fence.admit(change('bob', 5))).toBe('send');
    expect(fence.admit(change('alice', 5))).toBe('held');
  });

  it('given more changes than it may hold, then it discards them all and asks for the snapshots of the accounts that lost some to be read again', () => {
    const fence = new SnapshotFence(3);
    fence.hold('alice');
    fence.hold('bob');
    fence.hold('carol');
    fence.admit(change('alice', 1));
    fence.admit(change('bob', 2));
    fence.admit(change('alice', 3));

    expect(fence.admit(change('alice', 4))).toBe('held'); // the fourth: the three before it go
    expect(fence.holding).toBe(1);
    expect(['alice', 'bob', 'carol'].map((account) => fence.needsReread(account))).toEqual([true, true, false]);

    // The read made after the overflow covers what was discarded; what arrives after it is still held.
    fence.rereading('alice');
    fence.admit(change('alice', 5));
    expect(fence.needsReread('alice')).toBe(false);
    expect(seqs(fence.release('alice', [balance('alice', 4)]))).toEqual(['EUR:5']);
  });

  it('given an account unfollowed, then it forgets its held changes and what the client had', () => {
    const fence = new SnapshotFence(100);
    fence.hold('alice');
    fence.admit(change('alice', 7));
    fence.forget('alice');

    expect(fence.holding).toBe(0);
    fence.hold('alice');
    expect(seqs(fence.release('alice', [balance('alice', 2)]))).toEqual([]);
    expect(fence.admit(change('alice', 3))).toBe('send');
  });
});

import type { BalanceChangedPayload } from '@modulith/ledger/contracts';
import { balanceKey } from './posting.rules';
import { appendToStatements } from './statement.rules';

const change = (account: string, entrySeq: number, delta: string, currency = 'EUR'): BalanceChangedPayload => ({
  account,
  currency,
  delta,
  entrySeq: String(entrySeq),
  // Deliberately not used: the statement's balances come from its own previous line.
  balance: 'ignored',
  transferId: `t-${entrySeq}`,
});
const balances = (changes: BalanceChangedPayload[], heads = new Map()) =>
  appendToStatements(heads, changes).lines.map((line) => [line.account, line.currency, line.entrySeq, line.balanceAfter]);

describe('running statements', () => {
  it('given a balance with no statement yet, then its first line starts from zero and each next adds its delta', () => {
    expect(balances([change('a', 1, '-5'), change('b', 2, '5'), change('a', 3, '7')])).toEqual([
      ['a', 'EUR', 1n, -5n],
      ['b', 'EUR', 2n, 5n],
      ['a', 'EUR', 3n, 2n],
    ]);
  });

  it('given an existing statement, then it goes on from its last line', () => {
    const heads = new Map([[balanceKey('a', 'EUR'), { entrySeq: 10n, balanceAfter: 100n }]]);
    expect(balances([change('a', 11, '-30')], heads)).toEqual([['a', 'EUR', 11n, 70n]]);
  });

  it('keeps one statement per account and currency', () => {
    expect(balances([change('a', 1, '5'), change('a', 2, '9', 'USD'), change('a', 3, '1')])).toEqual([
      ['a', 'EUR', 1n, 5n],
      ['a', 'USD', 2n, 9n],
      ['a', 'EUR', 3n, 6n],
    ]);
  });

  it('keeps balances beyond 64 bits exact', () => {
    const max = '9223372036854775807';
    expect(balances([change('w', 1, max), change('w', 2, max)]).at(-1)?.[3]).toBe(2n * 9223372036854775807n);
  });

  it('given the changes in another order, then the statement differs: it depends on delivery order', () => {
    const inOrder = balances([change('a', 1, '10'), change('a', 2, '-3')]);
    expect(inOrder).toEqual([
      ['a', 'EUR', 1n, 10n],
      ['a', 'EUR', 2n, 7n],
    ]);
    // Entry 2 first: entry 1 is then behind the statement's last line and left out.
    const reordered = appendToStatements(new Map(), [change('a', 2, '-3'), change('a', 1, '10')]);
    expect(reordered.lines.map((line) => [line.entrySeq, line.balanceAfter])).toEqual([[2n, -3n]]);
    expect(reordered.stale.map((stale) => stale.entrySeq)).toEqual(['1']);
  });

  it('given a change already in the statement (copied in at creation), then it is left out, not added twice', () => {
    const heads = new Map([[balanceKey('a', 'EUR'), { entrySeq: 10n, balanceAfter: 100n }]]);
    const { lines, stale } = appendToStatements(heads, [change('a', 10, '4'), change('a', 12, '1')]);
    expect(lines.map((line) => [line.entrySeq, line.balanceAfter])).toEqual([[12n, 101n]]);
    expect(stale).toHaveLength(1);
  });
});

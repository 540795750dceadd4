import { balanceKey, netChanges, postingsFor, withBalancesAfter } from './posting.rules';

const transfer = (transferId: string, from: string, to: string, amount: string, currency = 'EUR') => ({
  transferId,
  from,
  to,
  amount,
  currency,
  occurredAt: '2026-01-01T00:00:00.000Z',
});

describe('posting rules', () => {
  it('given a transfer, when posted, then it debits from and credits to by the same amount', () => {
    expect(postingsFor([transfer('t1', 'a', 'b', '1250')])).toEqual([
      { transferId: 't1', account: 'a', currency: 'EUR', amount: -1250n },
      { transferId: 't1', account: 'b', currency: 'EUR', amount: 1250n },
    ]);
  });

  it('keeps 64-bit amounts exact', () => {
    const [debit] = postingsFor([transfer('t1', 'a', 'b', '9223372036854775807')]);
    expect(debit.amount).toBe(-9223372036854775807n);
  });

  it('nets changes per account and currency, in a stable order', () => {
    const postings = postingsFor([transfer('t1', 'b', 'a', '5'), transfer('t2', 'a', 'b', '3'), transfer('t3', 'a', 'b', '1', 'USD')]);
    expect(netChanges(postings)).toEqual([
      { account: 'a', currency: 'EUR', delta: 2n },
      { account: 'b', currency: 'EUR', delta: -2n },
      { account: 'a', currency: 'USD', delta: -1n },
      { account: 'b', currency: 'USD', delta: 1n },
    ]);
  });

  it('works back from the final balances to the balance after each posting', () => {
    const postings = postingsFor([transfer('t1', 'a', 'b', '5'), transfer('t2', 'a', 'b', '3')]);
    const finals = new Map([
      [balanceKey('a', 'EUR'), 92n], // was 100
      [balanceKey('b', 'EUR'), 8n], // was 0
    ]);
    expect(withBalancesAfter(postings, finals).map((p) => [p.account, p.balanceAfter])).toEqual([
      ['a', 95n],
      ['b', 5n],
      ['a', 92n],
      ['b', 8n],
    ]);
  });
});

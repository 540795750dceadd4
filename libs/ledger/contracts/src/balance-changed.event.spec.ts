import { BalanceChanged, type BalanceChangedPayload } from './balance-changed.event';

const change = (account: string, currency: string): BalanceChangedPayload => ({
  account,
  currency,
  balance: '5',
  delta: '5',
  transferId: 't',
  entrySeq: '1',
});

describe('BalanceChanged', () => {
  it('keeps a stable wire type and version, whatever the class is called', () => {
    expect(BalanceChanged.type).toBe('ledger.balance-changed');
    expect(BalanceChanged.version).toBe(1);
  });

  it('carries plain JSON data: amounts as decimal strings', () => {
    const event = new BalanceChanged({ account: 'a', currency: 'EUR', balance: '-9223372036854775807', delta: '-5', transferId: 't', entrySeq: '7' });
    expect(JSON.parse(JSON.stringify(event.payload))).toEqual(event.payload);
  });

  it('is ordered per account and currency: one key per balance', () => {
    expect(BalanceChanged.orderingKey(change('acc-1', 'EUR'))).toBe('acc-1/EUR');
    expect(BalanceChanged.orderingKey(change('acc-1', 'USD'))).not.toBe(BalanceChanged.orderingKey(change('acc-1', 'EUR')));
    expect(BalanceChanged.orderingKey(change('acc-2', 'EUR'))).not.toBe(BalanceChanged.orderingKey(change('acc-1', 'EUR')));
  });

  it('keeps the longest account id within the platform limit of 200 characters', () => {
    const key = BalanceChanged.orderingKey(change('a'.repeat(128), 'EUR'));
    expect(key.length).toBe(132);
    expect(key.length).toBeLessThanOrEqual(200);
  });
});

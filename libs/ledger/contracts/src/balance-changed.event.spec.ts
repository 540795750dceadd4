import { BalanceChanged } from './balance-changed.event';

describe('BalanceChanged', () => {
  it('keeps a stable wire type and version, whatever the class is called', () => {
    expect(BalanceChanged.type).toBe('ledger.balance-changed');
    expect(BalanceChanged.version).toBe(1);
  });

  it('carries plain JSON data: amounts as decimal strings', () => {
    const event = new BalanceChanged({ account: 'a', currency: 'EUR', balance: '-9223372036854775807', delta: '-5', transferId: 't', entrySeq: '7' });
    expect(JSON.parse(JSON.stringify(event.payload))).toEqual(event.payload);
  });
});

import { checkInvariants, type ModuleTotals } from './invariant-check';

const healthy = (): ModuleTotals => ({
  ingestion: {
    transfers: 2,
    byCurrency: [{ currency: 'EUR', count: 2, volume: '15' }],
    netByAccount: [
      { account: 'a', currency: 'EUR', net: '-15' },
      { account: 'b', currency: 'EUR', net: '10' },
      { account: 'c', currency: 'EUR', net: '5' },
    ],
  },
  ledger: {
    transfersApplied: 2,
    malformedTransfers: 0,
    sumByCurrency: [{ currency: 'EUR', balance: '0' }],
    balances: [
      { account: 'a', currency: 'EUR', balance: '-15' },
      { account: 'b', currency: 'EUR', balance: '10' },
      { account: 'c', currency: 'EUR', balance: '5' },
    ],
    statements: { statements: 3, lines: 4, broken: 0, problems: [] },
  },
  analytics: { transfersCounted: 2, byCurrency: [{ currency: 'EUR', count: 2, volume: '15' }] },
});

const failed = (totals: ModuleTotals) => checkInvariants(totals).filter((result) => !result.ok).map((result) => result.name);

describe('invariant check', () => {
  it('given consistent modules, then every invariant holds', () => {
    expect(failed(healthy())).toEqual([]);
    expect(checkInvariants(healthy())).toHaveLength(5);
  });

  it('given a transfer the ledger applied twice, then it names that invariant', () => {
    const totals = healthy();
    totals.ledger.malformedTransfers = 1;
    expect(failed(totals)).toEqual(['ledger applied every transfer exactly once']);
  });

  it('given a currency that does not sum to zero, then it names it', () => {
    const totals = healthy();
    totals.ledger.sumByCurrency = [{ currency: 'EUR', balance: '1' }];
    expect(checkInvariants(totals).find((result) => !result.ok)?.detail).toBe('EUR sums to 1');
  });

  it('given a balance that differs from the recomputed one, then it names the account', () => {
    const totals = healthy();
    totals.ledger.balances[1] = { account: 'b', currency: 'EUR', balance: '11' };
    const result = checkInvariants(totals).find((r) => r.name.startsWith('every balance'));
    expect(result?.ok).toBe(false);
    expect(result?.detail).toContain('EUR b: ledger 11, recomputed 10');
  });

  it('given a running statement that disagrees with the ledger, then it names that invariant and the line', () => {
    const totals = healthy();
    totals.ledger.statements = { statements: 3, lines: 4, broken: 1, problems: ['EUR b: line 3: balance_after 11, previous + amount 10'] };
    const result = checkInvariants(totals).find((r) => !r.ok);
    expect(failed(totals)).toEqual(['every running statement follows its balance line by line']);
    expect(result?.detail).toBe('1 of 3 wrong, e.g. EUR b: line 3: balance_after 11, previous + amount 10');
  });

  it('given analytics that missed a transfer, then it fails that invariant', () => {
    const totals = healthy();
    totals.analytics = { transfersCounted: 1, byCurrency: [{ currency: 'EUR', count: 1, volume: '10' }] };
    expect(failed(totals)).toEqual(['analytics counted every transfer exactly once']);
  });
});

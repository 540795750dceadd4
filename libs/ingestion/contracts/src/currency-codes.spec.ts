import { CURRENCY_CODES, isCurrencyCode } from './currency-codes';

describe('currency codes', () => {
  it('know the common ISO 4217 codes and nothing else', () => {
    for (const code of ['EUR', 'USD', 'JPY', 'GBP', 'CHF', 'XAU']) expect(isCurrencyCode(code)).toBe(true);
    for (const code of ['eur', 'EURO', 'XXX', 'XTS', 'ABC', '']) expect(isCurrencyCode(code)).toBe(false);
    expect(CURRENCY_CODES.size).toBeGreaterThan(170);
  });
});

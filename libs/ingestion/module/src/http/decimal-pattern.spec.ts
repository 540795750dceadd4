import fc from 'fast-check';
import { TRANSFER_LIMITS } from '@modulith/ingestion/contracts';
import { parseAmount } from '../transfer.rules';
import { decimalPatternUpTo } from './decimal-pattern';

describe('decimalPatternUpTo', () => {
  const pattern = new RegExp(decimalPatternUpTo(TRANSFER_LIMITS.maxAmount));
  const accepted = (text: string) => {
    try {
      parseAmount(text, 'amount');
      return true;
    } catch {
      return false;
    }
  };

  it('given the amount limit, then it accepts exactly the decimal strings the validation accepts', () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: -10n, max: 2n * TRANSFER_LIMITS.maxAmount }), fc.bigInt({ min: TRANSFER_LIMITS.maxAmount - 1000n, max: TRANSFER_LIMITS.maxAmount + 1000n })), (n) => {
        expect(pattern.test(n.toString())).toBe(accepted(n.toString()));
      }),
      { numRuns: 1000 },
    );
    for (const text of ['9223372036854775807', '9223372036854775808', '0', '01', '1', '9999999999999999999']) {
      expect(pattern.test(text)).toBe(accepted(text));
    }
  });

  it('works for small and round limits too', () => {
    for (const max of [1n, 9n, 10n, 100n, 1000n, 4321n]) {
      const small = new RegExp(decimalPatternUpTo(max));
      for (let n = 0n; n <= max + 20n; n++) expect(small.test(n.toString())).toBe(n >= 1n && n <= max);
    }
  });
});

import { ValidationError } from '@modulith/core';
import { parseAmount, parseInstant, parseTransfer, withoutRepeats } from './transfer.rules';

const valid = { id: 't-1', from: 'acc:1', to: 'acc:2', amount: '1250', currency: 'EUR', occurredAt: '2026-01-31T12:00:00Z' };

function fieldOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('transfer rules', () => {
  describe('given a valid transfer', () => {
    it('when parsed, then it is normalised', () => {
      expect(parseTransfer({ ...valid, amount: 1250, occurredAt: '2026-01-31T14:00:00.5+02:00' })).toEqual({
        ...valid,
        occurredAt: '2026-01-31T12:00:00.500Z',
      });
    });
  });

  describe('given a bad amount', () => {
    it.each([
      ['zero', '0'],
      ['negative string', '-5'],
      ['negative number', -5],
      ['float', 1.5],
      ['decimal string', '1.5'],
      ['leading zero', '007'],
      ['above 2^63-1', '9223372036854775808'],
      ['unsafe number', 2 ** 60],
      ['boolean', true],
      ['exponent', '1e3'],
    ])('when %s, then the error names amount', (_label, amount) => {
      expect(fieldOf(() => parseTransfer({ ...valid, amount }, 'transfers[3]'))).toBe('transfers[3].amount');
    });

    it('accepts the largest 64-bit amount', () => {
      expect(parseAmount('9223372036854775807', 'amount')).toBe('9223372036854775807');
    });
  });

  it.each([
    ['from equals to', { to: 'acc:1' }, 'to'],
    ['unknown currency', { currency: 'ABC' }, 'currency'],
    ['lower-case currency', { currency: 'eur' }, 'currency'],
    ['empty id', { id: '' }, 'id'],
    ['long id', { id: 'x'.repeat(129) }, 'id'],
    ['id with spaces', { id: 'a b' }, 'id'],
    ['non-ASCII account', { from: 'konto-ü' }, 'from'],
    ['numeric account', { from: 12 }, 'from'],
    ['no time zone', { occurredAt: '2026-01-31T12:00:00' }, 'occurredAt'],
    ['impossible date', { occurredAt: '2026-02-30T12:00:00Z' }, 'occurredAt'],
    ['not a date', { occurredAt: 'yesterday' }, 'occurredAt'],
  ])('rejects %s, naming the field', (_label, patch, field) => {
    expect(fieldOf(() => parseTransfer({ ...valid, ...patch }))).toBe(field);
  });

  it('rejects unknown and missing fields', () => {
    expect(fieldOf(() => parseTransfer({ ...valid, memo: 'x' }))).toBe('memo');
    const { currency: _dropped, ...missing } = valid;
    expect(fieldOf(() => parseTransfer(missing))).toBe('currency');
  });

  it('accepts leap days and offsets without a colon', () => {
    expect(parseInstant('2028-02-29T00:00:00+0100', 'at')).toBe('2028-02-28T23:00:00.000Z');
  });

  it('drops exact repeats within a batch and rejects conflicting ones', () => {
    const parsed = parseTransfer(valid);
    expect(withoutRepeats([parsed, parsed])).toHaveLength(1);
    expect(fieldOf(() => withoutRepeats([parsed, { ...parsed, amount: '1' }]))).toBe('transfers[1].id');
  });
});

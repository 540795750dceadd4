import { ValidationError } from '@modulith/core';
import { readInstant } from './instant-reader';

const fieldOf = (work: () => unknown): string | undefined => {
  try {
    work();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  return undefined;
};

describe('readInstant', () => {
  it('normalises to UTC with millisecond precision', () => {
    expect(readInstant('2026-01-31T14:00:00.5+02:00', 'at')).toBe('2026-01-31T12:00:00.500Z');
    expect(readInstant('2028-02-29T00:00:00+0100', 'at')).toBe('2028-02-28T23:00:00.000Z');
    expect(readInstant('2026-01-31', 'from', { allowDate: true })).toBe('2026-01-31T00:00:00.000Z');
  });

  it.each([
    ['no time zone', '2026-01-31T12:00:00'],
    ['an impossible day', '2026-02-30T12:00:00Z'],
    ['Feb 29 of a common year', '2027-02-29T00:00:00Z'],
    ['a bare date when not allowed', '2026-01-31'],
    ['words', 'yesterday'],
    ['year zero', '0000-01-01T00:00:00Z'],
    ['before year 1 in UTC', '0001-01-01T00:00:00+14:00'],
    ['after year 9999 in UTC', '9999-12-31T23:59:59-14:00'],
    ['a number', 20260131],
  ])('rejects %s, naming the field', (_label, value) => {
    expect(fieldOf(() => readInstant(value, 'occurredAt'))).toBe('occurredAt');
  });

  it('rejects impossible bare dates too', () => {
    expect(fieldOf(() => readInstant('2026-02-30', 'from', { allowDate: true }))).toBe('from');
    expect(fieldOf(() => readInstant('0000-01-01', 'from', { allowDate: true }))).toBe('from');
  });
});

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
    ['UTC without seconds', '2026-01-31T14:05Z', '2026-01-31T14:05:00.000Z'],
    ['UTC, digits past the millisecond dropped', '2026-01-31T14:05:06.123987Z', '2026-01-31T14:05:06.123Z'],
    ['UTC, one fraction digit', '2026-01-31T14:05:06.7Z', '2026-01-31T14:05:06.700Z'],
    ['an offset across midnight and a year end', '2026-12-31T23:30:00-01:00', '2027-01-01T00:30:00.000Z'],
    ['an offset of minutes only', '2026-01-31T00:10:00+00:30', '2026-01-30T23:40:00.000Z'],
    ['a two-digit year, not read as 19xx', '0099-03-01T01:00:00+02:00', '0099-02-28T23:00:00.000Z'],
    ['year 1 in UTC', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('reads %s', (_label, text, utc) => {
    expect(readInstant(text, 'at')).toBe(utc);
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

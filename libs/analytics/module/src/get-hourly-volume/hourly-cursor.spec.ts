import { ValidationError } from '@modulith/core';
import { decodeHourlyCursor, encodeHourlyCursor } from './hourly-cursor';

describe('hourly cursor', () => {
  it('given a position, when encoded and decoded, then it comes back unchanged', () => {
    const position = { hour: '2026-01-31T12:00:00.000Z', currency: 'EUR' };
    expect(decodeHourlyCursor(encodeHourlyCursor(position))).toEqual(position);
  });

  it.each([
    ['not base64url', 'a b'],
    ['not a position', Buffer.from('hello').toString('base64url')],
    ['not an hour', Buffer.from('2026-01-31T12:30:00.000Z EUR').toString('base64url')],
    ['an impossible date', Buffer.from('2026-02-31T12:00:00.000Z EUR').toString('base64url')],
    ['too long', 'A'.repeat(65)],
  ])('refuses a cursor that is %s, naming the field', (_case, cursor) => {
    expect(() => decodeHourlyCursor(cursor)).toThrow(ValidationError);
    expect(() => decodeHourlyCursor(cursor)).toThrow(/must be the nextCursor/);
  });
});

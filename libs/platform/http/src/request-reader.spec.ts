import { ValidationError } from '@modulith/core';
import { readArray, readBigintCursor, readIntParam, readObject, readString } from './request-reader';

function failure(work: () => unknown): ValidationError {
  try {
    work();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('request readers', () => {
  it('reject unknown and missing fields by name', () => {
    expect(failure(() => readObject({ a: 1, b: 2 }, 'item', ['a'])).field).toBe('item.b');
    expect(failure(() => readObject({}, 'item', ['a'])).field).toBe('item.a');
    expect(failure(() => readObject([], '', ['a'])).message).toBe('body: must be an object, got an array');
    expect(readObject({ a: 1 }, 'item', ['a'], ['b'])).toEqual({ a: 1 });
    expect(failure(() => readObject({ '': 1 }, '', ['a'])).message).toBe('[""]: is not an allowed field');
    expect(failure(() => readObject({ a: 1, '': 1 }, 'transfers[2]', ['a'])).field).toBe('transfers[2][""]');
  });

  it('check types and patterns', () => {
    expect(failure(() => readString(5, 'x', /./, 'anything')).message).toBe('x: must be a string, got a number');
    expect(failure(() => readString('', 'x', /^.+$/, 'must not be empty')).message).toBe('x: must not be empty');
    expect(failure(() => readArray({}, 'list')).message).toBe('list: must be an array, got an object');
  });

  it('read integer parameters within bounds', () => {
    expect(readIntParam(undefined, 'limit', 50, 1, 500)).toBe(50);
    expect(readIntParam('20', 'limit', 50, 1, 500)).toBe(20);
    expect(failure(() => readIntParam('0', 'limit', 50, 1, 500)).field).toBe('limit');
    expect(failure(() => readIntParam('-1', 'limit', 50, 1, 500)).field).toBe('limit');
  });

  it('read a keyset cursor by value within 1..2^63-1, not only by its digits', () => {
    expect(readBigintCursor(undefined, 'cursor')).toBeUndefined();
    expect(readBigintCursor('1', 'cursor')).toBe('1');
    expect(readBigintCursor('9223372036854775807', 'cursor')).toBe('9223372036854775807');
    for (const bad of ['9223372036854775808', '9999999999999999999', '10000000000000000000', '0', '-1', '01', '1.5', '', 'x']) {
      expect(failure(() => readBigintCursor(bad, 'cursor')).field).toBe('cursor');
    }
    expect(failure(() => readBigintCursor(['1', '2'], 'cursor')).field).toBe('cursor');
  });
});

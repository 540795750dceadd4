import { ValidationError } from '@modulith/core';
import { parseClientMessage } from './client-message.rules';

const fieldOf = (raw: string): string => {
  try {
    parseClientMessage(raw, 3);
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  throw new Error('expected a ValidationError');
};

describe('client messages', () => {
  it('reads subscribe and unsubscribe', () => {
    expect(parseClientMessage('{"action":"subscribe","accounts":["a","b"]}', 3)).toEqual({ action: 'subscribe', accounts: ['a', 'b'] });
    expect(parseClientMessage('{"action":"unsubscribe","accounts":["a"]}', 3).action).toBe('unsubscribe');
  });

  it.each([
    ['not JSON', '{"action":', 'message'],
    ['an array', '[]', 'body'],
    ['an unknown action', '{"action":"publish","accounts":["a"]}', 'action'],
    ['no accounts', '{"action":"subscribe","accounts":[]}', 'accounts'],
    ['too many accounts', '{"action":"subscribe","accounts":["a","b","c","d"]}', 'accounts'],
    ['a bad account id', '{"action":"subscribe","accounts":["a","<script>"]}', 'accounts[1]'],
    ['an extra field', '{"action":"subscribe","accounts":["a"],"x":1}', 'x'],
  ])('rejects %s, naming the field', (_label, raw, field) => {
    expect(fieldOf(raw)).toBe(field);
  });
});

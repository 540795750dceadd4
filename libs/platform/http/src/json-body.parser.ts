import { ValidationError } from '@modulith/core';
import { guardJsonKeys } from './json-key.guard';

/**
 * Fastify content-type parser for JSON bodies whose failures name the body, or the key at
 * fault: a key repeated within one object or a prototype key (see `guardJsonKeys`) is a 400,
 * so the value we store is never one that a proxy in front of us read differently.
 */
export function parseJsonBody(_request: unknown, body: string | Buffer, done: (error: Error | null, value?: unknown) => void): void {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') {
    done(new ValidationError('body', 'must not be empty'));
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    done(new ValidationError('body', `malformed JSON (${(error as Error).message})`));
    return;
  }
  try {
    guardJsonKeys(text, value);
  } catch (error) {
    done(error as Error);
    return;
  }
  done(null, value);
}

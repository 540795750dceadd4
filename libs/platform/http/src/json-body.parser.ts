import { ValidationError } from '@modulith/core';

/** Fastify content-type parser for JSON bodies whose failures name the body. */
export function parseJsonBody(_request: unknown, body: string | Buffer, done: (error: Error | null, value?: unknown) => void): void {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') {
    done(new ValidationError('body', 'must not be empty'));
    return;
  }
  try {
    done(null, JSON.parse(text));
  } catch (error) {
    done(new ValidationError('body', `malformed JSON (${(error as Error).message})`));
  }
}

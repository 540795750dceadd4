import { ValidationError } from '@modulith/core';

// UTF-16 surrogates that are not part of a pair.
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Rejects what JSON would silently change or cannot carry: floats (amounts must be strings),
 * bigint, undefined, functions, dates and other class instances, and strings (values or keys)
 * that PostgreSQL cannot keep everywhere an event may have to go: `\u0000` (refused by `jsonb`
 * and `text`) and unpaired surrogates (not valid Unicode). Checked at append time so a bad
 * payload fails the producer's transaction, not a consumer's retry or dead letter.
 */
export function assertPlainPayload(value: unknown, path: string): void {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    assertStorableText(value, path);
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new ValidationError(path, 'numbers in event payloads must be safe integers; send decimals and big numbers as strings');
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertPlainPayload(item, `${path}[${index}]`));
    return;
  }
  if (typeof value === 'object') {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      throw new ValidationError(path, `must be plain JSON data, got an instance of ${prototype?.constructor?.name ?? 'a class'}`);
    }
    for (const [key, item] of Object.entries(value)) {
      assertStorableText(key, `${path} (a key)`);
      assertPlainPayload(item, `${path}.${key}`);
    }
    return;
  }
  throw new ValidationError(path, `must be plain JSON data, got ${typeof value}`);
}

function assertStorableText(text: string, path: string): void {
  if (text.includes('\u0000') || UNPAIRED_SURROGATE.test(text)) {
    throw new ValidationError(path, 'must not contain the NUL character (\\u0000) or an unpaired UTF-16 surrogate');
  }
}

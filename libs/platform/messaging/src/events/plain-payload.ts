import { ValidationError } from '@modulith/core';

/**
 * Rejects what JSON would silently change or cannot carry: floats (amounts must be strings),
 * bigint, undefined, functions, dates and other class instances. Checked at append time so a
 * bad payload fails the producer's transaction, not a consumer's.
 */
export function assertPlainPayload(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
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
    for (const [key, item] of Object.entries(value)) assertPlainPayload(item, `${path}.${key}`);
    return;
  }
  throw new ValidationError(path, `must be plain JSON data, got ${typeof value}`);
}

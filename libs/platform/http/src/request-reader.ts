import { ValidationError } from '@modulith/core';

/** A JSON object read from a request, with the path that names it in error messages. */
export type JsonObject = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Joins a path and a key: `transfers[3]` + `amount` → `transfers[3].amount`. An empty key is
 * written `[""]`, so that even it is named.
 */
export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (key === '') return `${parent}[""]`;
  return parent ? `${parent}.${key}` : key;
}

/** Asserts an object that has every required key and no other. */
export function readObject(value: unknown, path: string, required: readonly string[], optional: readonly string[] = []): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(path || 'body', `must be an object, got ${describe(value)}`);
  }
  const object = value as JsonObject;
  for (const key of Object.keys(object)) {
    if (!required.includes(key) && !optional.includes(key)) {
      throw new ValidationError(fieldPath(path, key), 'is not an allowed field');
    }
  }
  for (const key of required) {
    if (object[key] === undefined) throw new ValidationError(fieldPath(path, key), 'is required');
  }
  return object;
}

export function readArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ValidationError(path, `must be an array, got ${describe(value)}`);
  return value;
}

/** A string matching `pattern`, with `rule` saying in words what the pattern demands. */
export function readString(value: unknown, path: string, pattern: RegExp, rule: string): string {
  if (typeof value !== 'string') throw new ValidationError(path, `must be a string, got ${describe(value)}`);
  if (!pattern.test(value)) throw new ValidationError(path, rule);
  return value;
}

/** An integer query parameter within [min, max], or the default when absent. */
export function readIntParam(value: unknown, path: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) throw new ValidationError(path, `must be an integer between ${min} and ${max}`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) throw new ValidationError(path, `must be an integer between ${min} and ${max}`);
  return parsed;
}

/** The largest keyset cursor: sequence numbers live in PostgreSQL `bigint` columns. */
export const MAX_BIGINT_CURSOR = 9_223_372_036_854_775_807n;
/** What `readBigintCursor` accepts, for the OpenAPI schema of a cursor parameter. */
export const BIGINT_CURSOR_SCHEMA = {
  type: 'string' as const,
  pattern: '^[1-9][0-9]{0,18}$',
  description: '`nextCursor` of the previous page: a positive integer no larger than 9223372036854775807',
};

/**
 * A keyset cursor handed out by the API (a sequence number), or undefined when absent. Checked by
 * value, not only by digits, so a cursor past the `bigint` range is a 400 naming `path`, never a
 * database error.
 */
export function readBigintCursor(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  const text = readString(value, path, /^[1-9][0-9]{0,18}$/, 'must be the nextCursor of a previous page');
  if (BigInt(text) > MAX_BIGINT_CURSOR) throw new ValidationError(path, 'must be the nextCursor of a previous page');
  return text;
}

import { ValidationError } from '@modulith/core';
import { readString } from './request-reader';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-](\d{2}):?(\d{2}))$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface InstantOptions {
  /** Also accept a bare date (`2026-01-31`), read as midnight UTC. */
  allowDate?: boolean;
}

/**
 * An ISO 8601 instant with a time zone (or, if allowed, a bare date), normalised to UTC with
 * millisecond precision. Impossible dates (Feb 30) and instants outside years 1–9999 in UTC
 * (which PostgreSQL refuses) are rejected here, naming the field.
 */
export function readInstant(value: unknown, path: string, options: InstantOptions = {}): string {
  const rule = options.allowDate
    ? 'must be an ISO 8601 date or date-time with a time zone, e.g. 2026-01-31 or 2026-01-31T12:00:00Z'
    : 'must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T12:00:00Z';
  const text = readString(value, path, options.allowDate ? /^\d{4}-\d{2}-\d{2}(T.*)?$/ : DATE_TIME, rule);
  const parts = DATE_TIME.exec(text) ?? (options.allowDate ? DATE_ONLY.exec(text) : null);
  if (!parts) throw new ValidationError(path, rule);
  const [, y, mo, d, h = '0', mi = '0', s = '0', , zone = 'Z', zh = '0', zm = '0'] = parts;
  const [year, month, day] = [Number(y), Number(mo), Number(d)];
  // Month lengths from leap year 2000 (Date.UTC maps years 0-99 to 19xx), then Feb fixed up.
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
  const valid =
    year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth &&
    Number(h) <= 23 && Number(mi) <= 59 && Number(s) <= 59 &&
    (zone === 'Z' || (Number(zh) <= 23 && Number(zm) <= 59));
  const time = Date.parse(DATE_ONLY.test(text) ? `${text}T00:00:00Z` : text);
  if (!valid || Number.isNaN(time)) throw new ValidationError(path, rule);
  const utc = new Date(time).toISOString();
  if (!/^\d{4}-/.test(utc) || utc.startsWith('0000')) {
    throw new ValidationError(path, 'must lie between 0001-01-01 and 9999-12-31 in UTC');
  }
  return utc;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

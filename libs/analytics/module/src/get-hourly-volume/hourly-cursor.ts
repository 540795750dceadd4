import { ValidationError } from '@modulith/core';

/** Where a page of hourly buckets ended: the last bucket's hour (ISO 8601 UTC) and currency. */
export interface HourlyPosition {
  hour: string;
  currency: string;
}

const POSITION = /^(\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z) ([A-Z]{3})$/;
const RULE = 'must be the nextCursor of a previous page';

/** The opaque cursor a client passes back: base64url of "<hour> <currency>". */
export function encodeHourlyCursor(position: HourlyPosition): string {
  return Buffer.from(`${position.hour} ${position.currency}`).toString('base64url');
}

/** Reads a cursor made by `encodeHourlyCursor`; anything else is a `ValidationError` naming `cursor`. */
export function decodeHourlyCursor(cursor: string): HourlyPosition {
  const match = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? POSITION.exec(Buffer.from(cursor, 'base64url').toString('latin1')) : null;
  if (!match || Number.isNaN(Date.parse(match[1])) || new Date(match[1]).toISOString() !== match[1]) throw new ValidationError('cursor', RULE);
  return { hour: match[1], currency: match[2] };
}

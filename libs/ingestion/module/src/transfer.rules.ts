import { ValidationError } from '@modulith/core';
import { fieldPath, readInstant, readObject, readString } from '@modulith/http';
import { isCurrencyCode, TRANSFER_LIMITS, type Transfer } from '@modulith/ingestion/contracts';

const TRANSFER_FIELDS = ['id', 'from', 'to', 'amount', 'currency', 'occurredAt'] as const;
const DECIMAL = /^[1-9][0-9]{0,18}$/;

/** A positive integer up to 2^63-1, from a decimal string or a safe integer; never a float. */
export function parseAmount(value: unknown, path: string): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new ValidationError(path, 'must be an integer in minor units; send values above 2^53-1 as a decimal string');
    }
    if (value <= 0) throw new ValidationError(path, 'must be a positive integer');
    return String(value);
  }
  if (typeof value !== 'string') throw new ValidationError(path, 'must be a positive integer as a decimal string or a number');
  if (!DECIMAL.test(value)) {
    throw new ValidationError(path, 'must be a positive integer in minor units written as plain digits (no sign, decimals or leading zeros)');
  }
  if (BigInt(value) > TRANSFER_LIMITS.maxAmount) throw new ValidationError(path, 'must be at most 9223372036854775807');
  return value;
}

/** An ISO 8601 instant with a time zone, normalised to UTC with millisecond precision. */
export function parseInstant(value: unknown, path: string): string {
  return readInstant(value, path);
}

/** Reads one transfer; errors name the field under `path`, e.g. `transfers[3].amount`. */
export function parseTransfer(value: unknown, path = ''): Transfer {
  const object = readObject(value, path, TRANSFER_FIELDS);
  const id = readString(object['id'], fieldPath(path, 'id'), TRANSFER_LIMITS.idPattern, TRANSFER_LIMITS.idRule);
  const from = readString(object['from'], fieldPath(path, 'from'), TRANSFER_LIMITS.idPattern, TRANSFER_LIMITS.idRule);
  const to = readString(object['to'], fieldPath(path, 'to'), TRANSFER_LIMITS.idPattern, TRANSFER_LIMITS.idRule);
  if (from === to) throw new ValidationError(fieldPath(path, 'to'), 'must differ from "from"');
  const amount = parseAmount(object['amount'], fieldPath(path, 'amount'));
  const currency = readString(object['currency'], fieldPath(path, 'currency'), /^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');
  if (!isCurrencyCode(currency)) throw new ValidationError(fieldPath(path, 'currency'), `"${currency}" is not an ISO 4217 currency code`);
  const occurredAt = parseInstant(object['occurredAt'], fieldPath(path, 'occurredAt'));
  return { id, from, to, amount, currency, occurredAt };
}

/** True when two transfers carry the same content (ids aside). */
export function sameTransfer(a: Transfer, b: Transfer): boolean {
  return a.from === b.from && a.to === b.to && a.amount === b.amount && a.currency === b.currency && a.occurredAt === b.occurredAt;
}

/**
 * Drops exact repeats within one batch; the same id with other content in one batch is a
 * client error, reported at the later index.
 */
export function withoutRepeats(transfers: readonly Transfer[], path = 'transfers'): Transfer[] {
  const seen = new Map<string, Transfer>();
  transfers.forEach((transfer, index) => {
    const earlier = seen.get(transfer.id);
    if (!earlier) seen.set(transfer.id, transfer);
    else if (!sameTransfer(earlier, transfer)) {
      throw new ValidationError(fieldPath(fieldPath(path, index), 'id'), `"${transfer.id}" appears earlier in this batch with other content`);
    }
  });
  return [...seen.values()];
}

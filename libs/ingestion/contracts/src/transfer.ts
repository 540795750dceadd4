/**
 * A transfer as clients send it and as the ingestion module returns it. Amounts are integers in
 * minor units carried as decimal strings (up to 2^63-1), never as floating point.
 */
export interface Transfer {
  /** Client-chosen idempotency key: 1–128 of letters, digits and `-_.:`. */
  id: string;
  from: string;
  to: string;
  /** Positive integer in minor units, as a decimal string. */
  amount: string;
  /** ISO 4217 code. */
  currency: string;
  /** ISO 8601 instant, normalised to UTC with millisecond precision. */
  occurredAt: string;
}

/** A stored transfer. */
export interface TransferView extends Transfer {
  /** When ingestion stored it (ISO 8601, UTC). */
  ingestedAt: string;
}

/** One page of a listing; pass `nextCursor` back as `cursor` for the next page. */
export interface TransferPage {
  items: TransferView[];
  nextCursor: string | null;
}

/** Outcome of ingesting a batch: new transfers stored, and idempotent repeats left unchanged. */
export interface IngestResult {
  accepted: number;
  replayed: number;
}

/** Rules shared by every module that reads transfers. */
export const TRANSFER_LIMITS = {
  maxAmount: 9_223_372_036_854_775_807n,
  idPattern: /^[A-Za-z0-9._:-]{1,128}$/,
  /** `idPattern` in words, for error messages. */
  idRule: 'must be 1-128 characters of letters, digits and -_.:',
  maxBatchSize: 10_000,
} as const;

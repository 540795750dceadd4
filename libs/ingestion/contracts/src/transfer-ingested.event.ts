import { IntegrationEvent } from '@modulith/messaging/events';
import { Type, type Static } from '@sinclair/typebox';
import { TRANSFER_LIMITS } from './transfer';

const TransferId = Type.String({ pattern: TRANSFER_LIMITS.idPattern.source, description: '1-128 of letters, digits and -_.:' });

/** The wire shape of `TransferIngested` v1 (its JSON Schema is committed under contracts/). */
export const TransferIngestedSchema = Type.Object({
  transferId: TransferId,
  from: TransferId,
  to: TransferId,
  amount: Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: 'positive integer in minor units, up to 2^63-1, as a decimal string' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' }),
  occurredAt: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$', description: 'ISO 8601 instant in UTC, milliseconds' }),
});

/** The payload of `TransferIngested`: the stored transfer, amounts as decimal strings. */
export type TransferIngestedPayload = Static<typeof TransferIngestedSchema>;

/** A transfer was accepted and stored for the first time (never for an idempotent replay). */
export class TransferIngested extends IntegrationEvent<TransferIngestedPayload> {
  static readonly type = 'ingestion.transfer-ingested';
  static readonly version = 1;
  static readonly schema = TransferIngestedSchema;
}

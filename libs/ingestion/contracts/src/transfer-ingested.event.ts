import { IntegrationEvent } from '@modulith/messaging';

/** The payload of `TransferIngested`: the stored transfer, amounts as decimal strings. */
export interface TransferIngestedPayload {
  transferId: string;
  from: string;
  to: string;
  amount: string;
  currency: string;
  occurredAt: string;
}

/** A transfer was accepted and stored for the first time (never for an idempotent replay). */
export class TransferIngested extends IntegrationEvent<TransferIngestedPayload> {
  static readonly type = 'ingestion.transfer-ingested';
  static readonly version = 1;
}

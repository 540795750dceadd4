/**
 * @modulith/ingestion/contracts — the public surface of the ingestion module: the transfer
 * shape, the commands and queries other modules and apps may send, and (with the messaging
 * core) the events it publishes.
 */
export { IngestTransfersCommand } from './ingest-transfers.command';
export { GetTransferQuery } from './get-transfer.query';
export { FindAccountTransfersQuery } from './find-account-transfers.query';
export { CURRENCY_CODES, isCurrencyCode } from './currency-codes';
export { TRANSFER_LIMITS } from './transfer';
export type { Transfer, TransferView, TransferPage, IngestResult } from './transfer';
export { TransferIngested } from './transfer-ingested.event';
export type { TransferIngestedPayload } from './transfer-ingested.event';
export { GetIngestionTotalsQuery } from './get-ingestion-totals.query';
export type { IngestionTotals } from './get-ingestion-totals.query';

/**
 * @modulith/ingestion — the ingestion module. Purpose: accept transfers (single and batch) over
 * HTTP, validate them, store them idempotently. Owns schema `ingestion`. Publishes
 * `TransferIngested` (with the messaging core). Consumes nothing.
 */
export { IngestionModule } from './ingestion.module';

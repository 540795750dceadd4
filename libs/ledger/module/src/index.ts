/**
 * @modulith/ledger — double-entry balances per account and currency. Owns schema `ledger`.
 * Consumes `TransferIngested` in batches; publishes `BalanceChanged` through the outbox.
 */
export { LedgerModule } from './ledger.module';

import { ModulithError } from '@modulith/core';

/**
 * A `subscribe` could not read the current balances of its accounts within its deadline
 * (the `snapshotTimeoutMs` option), or the ledger answered with an error or without the entry
 * sequence numbers the join needs. Nothing was subscribed; the client may try again.
 * Context: `accounts` (the ones asked for), `reason`.
 */
export class SnapshotUnavailableError extends ModulithError {
  readonly code = 'SNAPSHOT_UNAVAILABLE';
}

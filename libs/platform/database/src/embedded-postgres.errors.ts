import { ModulithError } from '@modulith/core';

/** The embedded PostgreSQL could not be set up, started or stopped. */
export class EmbeddedPostgresError extends ModulithError {
  readonly code: string = 'EMBEDDED_POSTGRES_FAILED';
}

/**
 * The embedded server's port is answered by another server (another app's embedded
 * PostgreSQL, an unrelated PostgreSQL, or no PostgreSQL at all), or the server of this data
 * folder already runs on another port. Its context names the port and both data folders
 * when they are known; the message names the fix.
 */
export class EmbeddedPostgresPortConflictError extends EmbeddedPostgresError {
  override readonly code = 'EMBEDDED_POSTGRES_PORT_CONFLICT';
}

import { ModulithError } from '@modulith/core';

/** An integration event was handed to the EventBus directly instead of through the outbox. */
export class DirectPublishError extends ModulithError {
  readonly code = 'DIRECT_PUBLISH_FORBIDDEN';
}

/** A subscriber received an event written by a newer producer than its contracts know. */
export class UnsupportedEventVersionError extends ModulithError {
  readonly code = 'UNSUPPORTED_EVENT_VERSION';
}

/** Shutdown gave up waiting for in-flight work; the open claim rolls back and is redelivered. */
export class ShutdownTimeoutError extends ModulithError {
  readonly code = 'MESSAGING_SHUTDOWN_TIMEOUT';
}

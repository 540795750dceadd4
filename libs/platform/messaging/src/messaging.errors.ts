import { ModulithError, ValidationError } from '@modulith/core';

/** An integration event was handed to the EventBus directly instead of through the outbox. */
export class DirectPublishError extends ModulithError {
  readonly code = 'DIRECT_PUBLISH_FORBIDDEN';
}

/** A subscriber received an event written by a newer producer than its contracts know. */
export class UnsupportedEventVersionError extends ModulithError {
  readonly code = 'UNSUPPORTED_EVENT_VERSION';
}

/**
 * An event payload does not fit its class's schema (see `IntegrationEvent.schema`); `field`
 * names the first offending field, e.g. `events[0].payload.amount`. Thrown by `append` (nothing
 * is written) and by delivery, which dead-letters the event at once: retrying cannot change it.
 */
export class EventSchemaError extends ValidationError {}

/** Shutdown gave up waiting for in-flight work; the open claim rolls back and is redelivered. */
export class ShutdownTimeoutError extends ModulithError {
  readonly code = 'MESSAGING_SHUTDOWN_TIMEOUT';
}

/** A subscriber's handler did not settle within its timeout (`HANDLER_TIMEOUT_MS` or `{ timeoutMs }`). Counted as a failed attempt. */
export class HandlerTimeoutError extends ModulithError {
  readonly code = 'HANDLER_TIMEOUT';
}

/**
 * A handler returned normally, but a statement it ran had failed and left its transaction
 * aborted (it caught the database error). PostgreSQL would answer COMMIT with a silent ROLLBACK,
 * losing the effect and the inbox rows together: it is counted as the handler's failure.
 */
export class AbortedTransactionError extends ModulithError {
  readonly code = 'HANDLER_TRANSACTION_ABORTED';
}

/**
 * The subscriber's own database transaction failed for a reason outside the handler (the
 * connection dropped, the server shut down). Says nothing about the event: no attempt is
 * counted and the delivery is given back whole, to be tried again.
 */
export class InfrastructureFailure extends ModulithError {
  readonly code = 'MESSAGING_INFRASTRUCTURE_FAILURE';
}

/**
 * Another attempt advanced an ordering key, or handled one of the events, between this attempt's
 * reads and its commit (a competing replica, a retry, a redelivery): the attempt rolls back and is
 * planned again. Not a failed attempt.
 */
export class KeyProgressConflictError extends ModulithError {
  readonly code = 'KEY_PROGRESS_CONFLICT';
}

/**
 * The broker that carries remote commands and queries could not take the call (Redis away or not
 * answering). A command may have been queued before the broker stopped answering: outcome unknown. HTTP 503.
 */
export class CallTransportError extends ModulithError {
  readonly code = 'CALL_TRANSPORT_UNAVAILABLE';
}

import {
  CallDeadlineExceededError,
  ConflictError,
  ModuleNotHostedError,
  ModulithError,
  NotFoundError,
  PayloadTooLargeError,
  RemoteHandlerError,
  ReplicaLostError,
  ValidationError,
  type ErrorContext,
} from '@modulith/core';
import type { CallRequest, WireError } from './call-wire';

/** Typed errors that keep their class (and so their HTTP mapping) across a remote call, by code. */
const REBUILDERS: Record<string, (wire: WireError) => ModulithError> = {
  VALIDATION_FAILED: (wire) => new ValidationError(String(wire.context['field'] ?? ''), '', wire.context),
  CONFLICT: (wire) => new ConflictError(wire.message, wire.context),
  NOT_FOUND: (wire) => new NotFoundError(wire.message, wire.context),
  PAYLOAD_TOO_LARGE: (wire) => new PayloadTooLargeError(wire.message, wire.context),
  MODULE_NOT_HOSTED: (wire) => new ModuleNotHostedError(String(wire.context['module']), String(wire.context['messageType'])),
  CALL_DEADLINE_EXCEEDED: (wire) => new CallDeadlineExceededError(wire.message, wire.context),
  REPLICA_LOST: (wire) => new ReplicaLostError(wire.message, wire.context),
};

/** What of `error` crosses the wire: code, class name, message and plain context. */
export function errorToWire(error: unknown): WireError {
  if (error instanceof ModulithError) {
    return { code: error.code, name: error.name, message: error.message, context: plainContext(error.context) };
  }
  const failure = error instanceof Error ? error : new Error(String(error));
  return { name: failure.name, message: failure.message, context: {} };
}

/**
 * The caller-side error for a remote one: the same class for the typed errors of
 * `@modulith/core` (a 404 stays a 404), else `RemoteHandlerError` (500) naming the remote error.
 */
export function errorFromWire(received: WireError, request: Pick<CallRequest, 'id' | 'module' | 'type'>): ModulithError {
  // A reply from a replica of another version (or a damaged one) may lack a context.
  const context = typeof received.context === 'object' && received.context !== null ? received.context : {};
  const wire = { ...received, context };
  // Own keys only: a code such as "constructor" must not pick an inherited function.
  const rebuild = wire.code && Object.hasOwn(REBUILDERS, wire.code) ? REBUILDERS[wire.code] : undefined;
  if (rebuild) {
    const error = rebuild(wire);
    // The remote message as it was, not as this side's constructor would word it.
    error.message = wire.message;
    return error;
  }
  return new RemoteHandlerError(`${request.type} failed in module ${request.module}: ${wire.name}: ${wire.message}`, {
    module: request.module,
    messageType: request.type,
    requestId: request.id,
    remoteName: wire.name,
    ...(wire.code ? { remoteCode: wire.code } : {}),
    remoteContext: wire.context,
  });
}

function plainContext(context: ErrorContext): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(context, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

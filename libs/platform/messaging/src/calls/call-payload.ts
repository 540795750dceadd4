import { ModulithError, ValidationError, type PublicCall } from '@modulith/core';
import { assertPlainPayload } from '../events/plain-payload';

/**
 * A public command or query, or its result, is not plain JSON (the same rules as event payloads:
 * amounts as strings; no bigint, Date, undefined, functions or class instances). A programming
 * error, never the client's: HTTP 500. `context.field` names the offending path.
 */
export class CallPayloadError extends ModulithError {
  readonly code = 'CALL_PAYLOAD_INVALID';
}

/** The message's own enumerable fields as plain JSON; throws `CallPayloadError` naming the field. */
export function payloadOf(message: object, call: PublicCall): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    // An optional argument left out is simply absent on the other side, as JSON has it.
    if (value !== undefined) payload[key] = value;
  }
  plain(payload, 'payload', call);
  return payload;
}

/** The message rebuilt on the serving side: an instance of its class with the payload's fields. */
export function messageOf(call: PublicCall, payload: Record<string, unknown>): object {
  return Object.assign(Object.create(call.target.prototype as object) as object, payload);
}

/**
 * Checks a handler's result before it travels; `undefined` (a command with no result) is allowed.
 * Throws `CallPayloadError` naming the field and the handler's message type.
 */
export function assertPlainResult(result: unknown, call: PublicCall): void {
  if (result !== undefined) plain(result, 'result', call);
}

function plain(value: unknown, root: 'payload' | 'result', call: PublicCall): void {
  const { type } = call;
  try {
    assertPlainPayload(value, `${type}.${root}`);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new CallPayloadError(`${call.target.name} (${type}): the ${root} is not plain JSON: ${error.message}`, {
      module: call.module,
      messageType: type,
      field: error.field,
    });
  }
}

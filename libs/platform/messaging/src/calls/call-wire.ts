import type { PublicCallKind } from '@modulith/core';

/** A remote command or query as it travels: JSON, one stream entry field. */
export interface CallRequest {
  /** Unique per call; a command's idempotency key; replies are matched by it. */
  id: string;
  kind: PublicCallKind;
  /** The module that answers. */
  module: string;
  /** The message's wire name (`@PublicQuery({ type })`). */
  type: string;
  /** The message's own enumerable fields, plain JSON. */
  payload: Record<string, unknown>;
  /** Unix epoch ms past which the call is not executed (and the caller no longer waits). */
  deadline: number;
  /** The caller process's reply channel. */
  replyTo: string;
  correlationId: string;
  causationId?: string;
  /** W3C trace context of the caller's span, when tracing is on. */
  traceparent?: string;
  tracestate?: string;
}

/** A remote error as it travels: rebuilt as the same `ModulithError` class at the caller when it is one. */
export interface WireError {
  code?: string;
  name: string;
  message: string;
  context: Record<string, unknown>;
}

/** The answer to `CallRequest` `id`, from replica `replica`. */
export type CallReply = { id: string; replica: string } & ({ ok: true; result?: unknown } | { ok: false; error: WireError });

export function encodeCall(message: CallRequest | CallReply): string {
  return JSON.stringify(message);
}

/** The request in `json`, or undefined when it is not one (a foreign or damaged entry). */
export function decodeRequest(json: string): CallRequest | undefined {
  const value = parse(json) as Partial<CallRequest> | undefined;
  const ok =
    typeof value?.id === 'string' &&
    (value.kind === 'query' || value.kind === 'command') &&
    typeof value.module === 'string' &&
    typeof value.type === 'string' &&
    typeof value.payload === 'object' &&
    value.payload !== null &&
    typeof value.deadline === 'number' &&
    typeof value.replyTo === 'string' &&
    typeof value.correlationId === 'string';
  return ok ? (value as CallRequest) : undefined;
}

/** The reply in `json`, or undefined when it is not one. */
export function decodeReply(json: string): CallReply | undefined {
  const value = parse(json) as Partial<CallReply> | undefined;
  if (typeof value?.id !== 'string' || typeof value.replica !== 'string' || typeof value.ok !== 'boolean') return undefined;
  if (!value.ok && typeof (value as { error?: WireError }).error?.message !== 'string') return undefined;
  return value as CallReply;
}

function parse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

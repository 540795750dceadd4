import { runWithCorrelation, uuidv7 } from '@modulith/core';

export const CORRELATION_HEADER = 'x-correlation-id';

// A caller's id is kept when it is a plain token; anything else is replaced, never echoed.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
}
interface ReplyLike {
  header(name: string, value: string): unknown;
}

/** Takes the request's correlation id (or makes one), returns it, and scopes the request to it. */
export function correlationHook(request: RequestLike, reply: ReplyLike, done: () => void): void {
  const given = request.headers[CORRELATION_HEADER];
  const correlationId = typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : uuidv7();
  reply.header(CORRELATION_HEADER, correlationId);
  runWithCorrelation({ correlationId }, done);
}

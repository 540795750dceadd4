/** What every answer to hostile input must look like. */

// Traces of internals: stack frames, file paths, driver and SQL error texts, error class names.
const INTERNALS = [
  /\bat [\w.<>]+ \(/,
  /\n\s+at /,
  /node_modules|dist\/apps|\/work\/|\.ts:\d+|\.js:\d+/,
  /QueryFailedError|TypeError|ReferenceError|RangeError|EntityManager|typeorm|pg-protocol/i,
  /duplicate key|violates|relation "|syntax error at or near|out of range for type|invalid input syntax|SQLSTATE/i,
  /"stack"|"query"|"parameters"|"driverError"/,
];

export function expectNoInternals(text: string): void {
  for (const pattern of INTERNALS) {
    if (pattern.test(text)) throw new Error(`the response reveals internals (${pattern}): ${text.slice(0, 500)}`);
  }
}

/**
 * A 4xx whose JSON body names `field` at the start of its message (`transfers[3].amount: ...`)
 * and reveals nothing internal. `within`: a field inside it may be named instead
 * (`transfers[0].id`). `field` undefined: any field, as long as one is named.
 */
export function expectNamedClientError(status: number, text: string, field?: string, within = false): void {
  if (status < 400 || status >= 500) throw new Error(`expected a 4xx, got ${status}: ${text.slice(0, 500)}`);
  expectNoInternals(text);
  let body: { statusCode?: number; message?: unknown; field?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`expected a JSON error body, got: ${text.slice(0, 300)}`);
  }
  if (body.statusCode !== status) throw new Error(`body.statusCode ${body.statusCode} differs from the status ${status}`);
  if (typeof body.message !== 'string') throw new Error(`expected a message, got: ${text.slice(0, 300)}`);
  const named = field !== undefined && (body.message.startsWith(`${field}: `) || (within && /^[.[]/.test(body.message.slice(field.length)) && body.message.startsWith(field)));
  if (field !== undefined && !named) {
    throw new Error(`expected the message to name "${field}", got: ${body.message.slice(0, 300)}`);
  }
  if (field === undefined) {
    // A validation error carries its field; other client errors name it in words (`body: ...`).
    const namesOne = typeof body.field === 'string' ? body.message.startsWith(`${body.field}: `) : /^[\w.[\]"-]+: ./s.test(body.message);
    if (!namesOne) throw new Error(`the message names no field: ${body.message.slice(0, 300)}`);
  }
}

/** Anything but a 5xx, and nothing internal in the body. */
export function expectNoServerError(status: number, text: string): void {
  if (status >= 500) throw new Error(`got ${status}: ${text.slice(0, 500)}`);
  expectNoInternals(text);
}

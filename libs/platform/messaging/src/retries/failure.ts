const MAX_TEXT = 8000;

/** The parts of a thrown value worth keeping in a retry or dead-letter row, bounded in size. */
export interface FailureDescription {
  message: string;
  stack: string | null;
}

/**
 * Never throws, whatever was thrown: `Object.create(null)`, an Error whose `message` getter
 * throws, a revoked Proxy. A description that failed would leave the event in the hot path,
 * delivered and failing for ever.
 */
export function describeFailure(error: unknown): FailureDescription {
  const message =
    attempt(() => (error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error))) ??
    attempt(() => `a thrown ${Object.prototype.toString.call(error)} that cannot be described`) ??
    'a thrown value that cannot be described';
  const stack = attempt(() => (error instanceof Error && typeof error.stack === 'string' && error.stack ? error.stack : null)) ?? null;
  return { message: storableText(String(message)), stack: stack === null ? null : storableText(stack) };
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * Text a PostgreSQL `text` column accepts, bounded: NUL is the one character it refuses, and a
 * handler's error message may carry anything (it would make the failure itself unstorable).
 */
function storableText(text: string): string {
  return text.slice(0, MAX_TEXT).replaceAll('\u0000', '\\u0000');
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
const CONNECTION_MESSAGES = /timeout exceeded when trying to connect|connection terminated|connection.*(closed|ended|lost)|client has encountered a connection error|not queryable|pool.*(ended|closed)|cannot use a pool after/i;

/**
 * True for failures of the database itself (connection lost, server shutting down, out of
 * resources). Asked only of the platform's own statements (connect, BEGIN, inbox, COMMIT,
 * parking): what a handler throws is the handler's failure whatever it looks like, as long as
 * its transaction still rolls back (see `runSubscriberTransaction`). Never throws.
 */
export function isInfrastructureFailure(error: unknown): boolean {
  return attempt(() => looksLikeLostConnection(error)) ?? false;
}

function looksLikeLostConnection(error: unknown): boolean {
  const candidate = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown } | undefined;
  const code = String(candidate?.code ?? candidate?.driverError?.code ?? '');
  if (CONNECTION_CODES.has(code)) return true;
  // SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57P operator
  // intervention (admin or crash shutdown), 58 system error. 57014 (statement timeout) is the
  // handler's own doing and counts as its failure.
  if (/^(08|53|57P|58)/.test(code)) return true;
  return typeof candidate?.message === 'string' && CONNECTION_MESSAGES.test(candidate.message);
}

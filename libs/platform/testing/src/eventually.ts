import { defaultWaitTimeoutMs } from './wait-bounds';

export interface EventuallyOptions {
  /** What is awaited, for the timeout's message ("the outbox to drain"). */
  message?: string;
  /** Bound in ms; default `TEST_WAIT_TIMEOUT_MS` (15 s). */
  timeoutMs?: number;
  /** Pause between looks in ms; default 25. */
  pollMs?: number;
  /** Appended to the timeout's message: the state that did not come right. */
  describe?: () => string | Promise<string>;
  /** Stops the wait at the next look, rejecting with the signal's reason (e.g. the awaited process died). */
  signal?: AbortSignal;
}

/**
 * Polls `check` until it returns a truthy value and resolves with that value. A look that throws
 * counts as "not yet" (a server still starting, a row not there yet); after `timeoutMs` it
 * rejects with `timed out after N ms waiting for <message>`, the last error thrown and
 * `describe()`'s text. An aborted `signal` ends the wait early with its reason.
 *
 * @example await eventually(async () => (await count()) === 3, { message: '3 rows', timeoutMs: 5_000 });
 */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<NonNullable<T>> {
  const { message = 'condition', timeoutMs = defaultWaitTimeoutMs(), pollMs = 25 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      const state = options.describe ? `\n${await Promise.resolve(options.describe()).catch((error: Error) => `(describe failed: ${error.message})`)}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${cause}${state}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

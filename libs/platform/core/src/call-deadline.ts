import { AsyncLocalStorage } from 'node:async_hooks';
import { ValidationError } from './errors';

const storage = new AsyncLocalStorage<number>();

/**
 * Runs `work` with a deadline `ms` milliseconds from now for every remote command or query it
 * sends (`CallDeadlineExceededError` past it). Never extends a deadline already in force: inside
 * another scope, or inside a remote handler (which inherits its caller's), the earlier one wins.
 * Calls answered in this process are plain bus calls and ignore it. `ms` must be a positive integer.
 */
export function withCallDeadline<T>(ms: number, work: () => T): T {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new ValidationError('ms', `must be a positive integer number of milliseconds, got ${ms}`);
  return withCallDeadlineAt(Date.now() + ms, work);
}

/**
 * Runs `work` with the absolute deadline `epochMs` (Unix epoch, ms), or the one in force if
 * earlier. Throws `ValidationError` (field `epochMs`) for NaN, which no comparison would catch.
 */
export function withCallDeadlineAt<T>(epochMs: number, work: () => T): T {
  if (typeof epochMs !== 'number' || Number.isNaN(epochMs)) throw new ValidationError('epochMs', `must be a Unix epoch time in ms, got ${String(epochMs)}`);
  const current = storage.getStore();
  return storage.run(current === undefined ? epochMs : Math.min(current, epochMs), work);
}

/** The deadline (Unix epoch, ms) of remote calls made here, if a scope set one. */
export function currentCallDeadline(): number | undefined {
  return storage.getStore();
}

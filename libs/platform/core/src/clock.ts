/** Time source, injected so tests can fix it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * Nest injection token of the app's `Clock`. Nothing provides it in production, so a module reads
 * time through it as `@Optional() @Inject(CLOCK) clock?: Clock` and falls back to `systemClock`;
 * a test (the messaging Scenario) provides it globally with a clock it sets and advances.
 */
export const CLOCK = Symbol.for('modulith.clock');

/**
 * A clock that moves only when told: `set` jumps to an instant, `advance` moves it forward by
 * milliseconds. Starts at `start` (a Date or an ISO-8601 string).
 */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date | string = '2026-01-01T00:00:00.000Z') {
    this.current = instantOf(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  set(instant: Date | string): void {
    this.current = instantOf(instant);
  }

  /** Moves the clock forward by `ms` milliseconds (never backward: use `set` for that). */
  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`ManualClock.advance: ${ms} is not a duration in milliseconds (finite, >= 0)`);
    this.current += ms;
    return this.now();
  }
}

function instantOf(value: Date | string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : value.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`ManualClock: "${String(value)}" is not an instant`);
  return ms;
}

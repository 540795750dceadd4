import { ManualClock } from './clock';

describe('ManualClock', () => {
  it('given a start, then it stays there until set or advanced', () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    expect(clock.now().toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(clock.advance(90 * 60_000).toISOString()).toBe('2026-03-01T11:30:00.000Z');
    clock.set(new Date('2025-12-31T23:59:59.999Z'));
    expect(clock.now().toISOString()).toBe('2025-12-31T23:59:59.999Z');
  });

  it('hands out copies, so a caller cannot move it', () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    clock.now().setFullYear(2000);
    expect(clock.now().toISOString()).toBe('2026-03-01T10:00:00.000Z');
  });

  it('refuses what is not an instant or a forward duration', () => {
    expect(() => new ManualClock('yesterday')).toThrow('"yesterday" is not an instant');
    expect(() => new ManualClock().advance(-1)).toThrow('is not a duration');
    expect(() => new ManualClock().advance(Number.NaN)).toThrow('is not a duration');
  });
});

import { currentCallDeadline, withCallDeadline, withCallDeadlineAt } from './call-deadline';
import { ValidationError } from './errors';

describe('call deadline scope', () => {
  it('is absent outside a scope and absolute inside one', () => {
    expect(currentCallDeadline()).toBeUndefined();
    const before = Date.now();
    const deadline = withCallDeadline(5000, () => currentCallDeadline());
    expect(deadline).toBeGreaterThanOrEqual(before + 5000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 5000);
  });

  it('never extends an earlier deadline in force, but tightens it', async () => {
    await withCallDeadlineAt(1_000_000, async () => {
      await Promise.resolve();
      expect(withCallDeadlineAt(2_000_000, () => currentCallDeadline())).toBe(1_000_000);
      expect(withCallDeadlineAt(500_000, () => currentCallDeadline())).toBe(500_000);
      expect(currentCallDeadline()).toBe(1_000_000);
    });
  });

  it('refuses a deadline that is not a positive integer, naming the argument', () => {
    expect(() => withCallDeadline(0, () => undefined)).toThrow(ValidationError);
    expect(() => withCallDeadline(1.5, () => undefined)).toThrow('ms: must be a positive integer');
  });

  it('refuses an absolute deadline that is not a number of ms (NaN would slip through every comparison), naming the argument', () => {
    expect(() => withCallDeadlineAt(Number.NaN, () => undefined)).toThrow(ValidationError);
    expect(() => withCallDeadlineAt(Date.parse('not a date'), () => undefined)).toThrow('epochMs: must be a Unix epoch time in ms');
    expect(withCallDeadlineAt(Number.POSITIVE_INFINITY, () => currentCallDeadline())).toBe(Number.POSITIVE_INFINITY);
  });
});

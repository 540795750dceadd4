import { retryDelayMs } from './backoff';

describe('retryDelayMs', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000 };

  it('doubles per failed attempt and stays within [half, full] of the exponential delay', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(50);
    expect(retryDelayMs(1, policy, () => 1)).toBe(100);
    expect(retryDelayMs(2, policy, () => 0)).toBe(100);
    expect(retryDelayMs(2, policy, () => 1)).toBe(200);
    expect(retryDelayMs(3, policy, () => 0.5)).toBe(300);
  });

  it('never exceeds the cap, however many attempts failed', () => {
    expect(retryDelayMs(5, policy, () => 1)).toBe(1000);
    expect(retryDelayMs(99, policy, () => 1)).toBe(1000);
    expect(retryDelayMs(99, policy, () => 0)).toBe(500);
  });

  it('spreads the delays of many events over the jitter range', () => {
    const delays = Array.from({ length: 1000 }, () => retryDelayMs(3, policy));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...delays)).toBeLessThanOrEqual(400);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });
});

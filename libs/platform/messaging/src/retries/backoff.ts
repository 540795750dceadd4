/** How long to wait before retrying a failed handler. */
export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before the next attempt after `failedAttempts` failures (1 or more): exponential from
 * the base delay, capped, with "equal jitter" — half of it fixed, half random — so a burst of
 * failures spreads out instead of retrying in lockstep, yet never retries at once.
 */
export function retryDelayMs(failedAttempts: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped / 2 + (random() * capped) / 2);
}

/** Load shapes shared by every contender: closed-loop batches to a count, open-loop batches at a rate. */
import { nowMs } from './ipc';

/** Produces `n` items in batches of `batch`, `concurrency` at a time; resolves when all are done. */
export async function produceAll(n: number, batch: number, concurrency: number, produce: (from: number, count: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const from = next;
      const count = Math.min(batch, n - from);
      next += count;
      await produce(from, count);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export interface RateOutcome {
  /** Items produced (committed). */
  produced: number;
  /** Rate achieved over the offered period, items/s. */
  achievedRate: number;
  /** Most batches in flight at once; a producer that falls behind shows here. */
  maxInFlight: number;
}

/**
 * Offers `rate` items/s for `seconds`: every `tickMs` it starts one batch of what is due, without
 * waiting for the batches before it (open loop, so a slow pipeline cannot slow the offered load
 * and hide its own latency). At most `maxInFlight` batches run at once.
 */
export async function produceAtRate(
  rate: number,
  seconds: number,
  produce: (from: number, count: number) => Promise<void>,
  { tickMs = 10, maxInFlight = 64 } = {},
): Promise<RateOutcome> {
  const total = Math.round(rate * seconds);
  const started = nowMs();
  let sent = 0;
  let produced = 0;
  let inFlight = 0;
  let peak = 0;
  const running = new Set<Promise<void>>();
  let failure: unknown;
  while (sent < total && failure === undefined) {
    const due = Math.min(total, Math.floor(((nowMs() - started) / 1000) * rate)) - sent;
    if (due > 0 && inFlight < maxInFlight) {
      const from = sent;
      sent += due;
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      const batch = produce(from, due).then(
        () => {
          produced += due;
        },
        (error: unknown) => {
          failure = error;
        },
      );
      running.add(batch);
      void batch.finally(() => {
        inFlight -= 1;
        running.delete(batch);
      });
    }
    const nextTick = started + Math.ceil((nowMs() - started + 0.001) / tickMs) * tickMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextTick - nowMs())));
  }
  const offeredMs = nowMs() - started;
  await Promise.all(running);
  if (failure !== undefined) throw failure;
  return { produced, achievedRate: produced / (offeredMs / 1000), maxInFlight: peak };
}

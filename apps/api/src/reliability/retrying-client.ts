import type { TestTransfer } from '../testing/transfer-load';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a client that re-sends every unacknowledged batch saw. */
export interface IngestStats {
  accepted: number;
  replayed: number;
  /** Attempts that got no answer or a 5xx, by status (0: no answer). */
  failures: Map<number, number>;
}

/**
 * Posts `transfers` in batches, `concurrency` at a time, re-sending a batch (same ids) until it
 * is acknowledged with 201. A 4xx other than 408/429 is a bug in the app and fails at once.
 */
export async function ingestUntilAcknowledged(
  baseUrl: () => string,
  transfers: readonly TestTransfer[],
  options: { batch?: number; concurrency?: number; timeoutMs?: number; paceMs?: number } = {},
): Promise<IngestStats> {
  const batch = options.batch ?? 500;
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  const stats: IngestStats = { accepted: 0, replayed: 0, failures: new Map() };
  const queue = Array.from({ length: Math.ceil(transfers.length / batch) }, (_, i) => transfers.slice(i * batch, (i + 1) * batch));
  const fail = (status: number) => stats.failures.set(status, (stats.failures.get(status) ?? 0) + 1);
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      for (;;) {
        if (Date.now() > deadline) throw new Error(`batches still unacknowledged after ${options.timeoutMs ?? 180_000} ms`);
        let status = 0;
        let text = '';
        try {
          const response = await fetch(`${baseUrl()}/transfers/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ transfers: next }),
            signal: AbortSignal.timeout(30_000),
          });
          status = response.status;
          text = await response.text();
        } catch {
          status = 0;
        }
        if (status === 201) {
          const result = JSON.parse(text) as { accepted: number; replayed: number };
          stats.accepted += result.accepted;
          stats.replayed += result.replayed;
          if (options.paceMs) await sleep(options.paceMs);
          break;
        }
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new Error(`HTTP ${status}: ${text}`);
        fail(status);
        await sleep(100);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return stats;
}

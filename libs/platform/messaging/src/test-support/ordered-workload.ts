// Load for the ordered-delivery tests: producers appending keyed events concurrently, some of
// their transactions rolled back (which must give their keys' numbers back).
import type { MovedPayload } from './ordered-events';
import type { OrderedProducer } from './ordered-modules';

/** `count` keys named `<prefix>00`, `<prefix>01`, … */
export function orderingKeys(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${String(index).padStart(2, '0')}`);
}

/** One transaction's events: 1–4 distinct keys, 1–3 events each, spread over `keys` by worker and round. */
export function movesOf(keys: readonly string[], worker: number, round: number, phase: string): MovedPayload[] {
  const moves: MovedPayload[] = [];
  const keyCount = 1 + ((worker + round) % 4);
  for (let index = 0; index < keyCount; index += 1) {
    const key = keys[(worker * 13 + round * 7 + index * 11) % keys.length];
    const events = 1 + ((round + index + worker) % 3);
    for (let event = 0; event < events; event += 1) moves.push({ key, label: `${phase}-w${worker}-r${round}-${index}.${event}` });
  }
  return moves;
}

export interface WorkloadOptions {
  keys: readonly string[];
  phase: string;
  /** Rounds per worker; without it the workers run until `stop()` returns true. */
  rounds?: number;
  stop?: () => boolean;
  /** Every n-th transaction of a worker appends and then rolls back (0: none). */
  rollbackEvery?: number;
  /** Swallow failed transactions (connections killed under them) instead of failing the test. */
  tolerateFailures?: boolean;
}

/** Runs one worker per producer (several per app if a producer is listed more than once), all at once. */
export async function runProducers(producers: readonly OrderedProducer[], options: WorkloadOptions): Promise<{ committed: number; rolledBack: number; failed: number }> {
  const totals = { committed: 0, rolledBack: 0, failed: 0 };
  await Promise.all(
    producers.map(async (producer, worker) => {
      for (let round = 0; options.rounds === undefined ? !options.stop?.() : round < options.rounds; round += 1) {
        const moves = movesOf(options.keys, worker, round, options.phase);
        const rollBack = (options.rollbackEvery ?? 0) > 0 && round % (options.rollbackEvery as number) === (options.rollbackEvery as number) - 1;
        try {
          if (rollBack) {
            await producer.publishAndFail(moves).then(
              () => Promise.reject(new Error('publishAndFail committed')),
              (error: Error) => {
                if (!error.message.includes('business rule failed')) throw error;
              },
            );
            totals.rolledBack += moves.length;
          } else {
            await producer.publish(moves);
            totals.committed += moves.length;
          }
        } catch (error) {
          if (!options.tolerateFailures) throw error;
          totals.failed += 1;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }),
  );
  return totals;
}

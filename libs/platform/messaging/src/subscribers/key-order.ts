import type { PoolClient } from 'pg';
import type { EventEnvelope } from '../events/event-envelope';
import { KeyProgressConflictError } from '../messaging.errors';

/** What one attempt may do with its events, by ordering key. */
export interface DeliveryPlan {
  /** In delivery order (each key's ascending): unordered events, and each key's next events. */
  take: EventEnvelope[];
  /** Keyed events whose predecessor is not handled yet: parked, held, until it is. */
  held: EventEnvelope[];
  /** Keyed events this subscriber already handled (or released): dropped. */
  seen: EventEnvelope[];
  /** Per key: the progress read (`expected`) and what it becomes once `take` commits. */
  advance: Array<{ key: string; expected: number; seq: number }>;
}


/** SQLSTATE of a deadlock PostgreSQL broke by aborting this transaction. */
const DEADLOCK_DETECTED = '40P01';

// One primary-key probe per key of the chunk. `ordering_key = ANY ($2)` was planned (generic
// plan, the array a parameter) as a scan of every key of the subscriber, each compared with
// every element of the array: 9-28 ms for 200 keys among 1,400 (auto_explain, keyed bench), the
// keyed run's top statement. LIMIT inside LATERAL keeps it a loop of index probes.
export const READ_PROGRESS = `SELECT p.ordering_key, p.seq::text AS seq FROM unnest($2::text[]) AS k(key)
                         CROSS JOIN LATERAL (SELECT ordering_key, seq FROM messaging.key_progress
                                              WHERE subscriber = $1 AND ordering_key = k.key LIMIT 1) p`;

// Compare-and-set of every key's progress: updated only where it still is what the plan read
// (a key never seen has no row: inserted, unless someone else inserted it first). Each key's
// row lock is then held until commit, so two attempts cannot both advance one key.
export const PROGRESS_CTES = `
       input AS (SELECT * FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS i(ordering_key, expected, seq)),
       updated AS (
         UPDATE messaging.key_progress p SET seq = i.seq FROM input i
          WHERE p.subscriber = $1 AND p.ordering_key = i.ordering_key AND p.seq = i.expected
          RETURNING 1),
       inserted AS (
         INSERT INTO messaging.key_progress (subscriber, ordering_key, seq)
         SELECT $1, ordering_key, seq FROM input WHERE expected = 0
         ON CONFLICT DO NOTHING
         RETURNING 1)`;
export const PROGRESS_ADVANCED = '(SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted) AS advanced';
const ADVANCE_PROGRESS = `WITH ${PROGRESS_CTES} SELECT ${PROGRESS_ADVANCED}`;

/**
 * Decides, from the subscriber's progress per key, which events of `chunk` this attempt
 * handles: an event is next when its `keySeq` is one past the last one handled (or released)
 * for its key; the events after a gap wait. Unordered events, and `outOfOrder` ones (a dead
 * letter re-driven after its key moved on), are always taken; the inbox deduplicates them.
 */
export async function planDelivery(client: PoolClient, subscriber: string, chunk: readonly EventEnvelope[], outOfOrder = false): Promise<DeliveryPlan> {
  const byKey = new Map<string, EventEnvelope[]>();
  if (!outOfOrder) {
    for (const envelope of chunk) {
      if (envelope.orderingKey === undefined || envelope.keySeq === undefined) continue;
      const events = byKey.get(envelope.orderingKey) ?? [];
      events.push(envelope);
      byKey.set(envelope.orderingKey, events);
    }
  }
  if (byKey.size === 0) return { take: [...chunk], held: [], seen: [], advance: [] };

  const { rows } = await client.query<{ ordering_key: string; seq: string }>({
    name: 'modulith-key-progress-read',
    text: READ_PROGRESS,
    values: [subscriber, [...byKey.keys()]],
  });
  return planFromProgress(chunk, byKey, new Map(rows.map((row) => [row.ordering_key, Number(row.seq)])));
}

/**
 * The plan for `chunk` given each key's progress (last number handled; absent is 0): per key,
 * what is at or below it is seen, the run of next numbers is taken, the rest is held.
 */
export function planFromProgress(
  chunk: readonly EventEnvelope[],
  byKey: ReadonlyMap<string, EventEnvelope[]>,
  progress: ReadonlyMap<string, number>,
): DeliveryPlan {
  const next = new Map<string, EventEnvelope[]>();
  const plan: DeliveryPlan = { take: [], held: [], seen: [], advance: [] };
  for (const [key, unsorted] of byKey) {
    const events = [...unsorted].sort((left, right) => (left.keySeq as number) - (right.keySeq as number));
    const expected = progress.get(key) ?? 0;
    let last = expected;
    const taken: EventEnvelope[] = [];
    let gap = false;
    for (const envelope of events) {
      const seq = envelope.keySeq as number;
      if (seq <= last) plan.seen.push(envelope);
      else if (seq === last + 1 && !gap) {
        taken.push(envelope);
        last = seq;
      } else {
        gap = true;
        plan.held.push(envelope);
      }
    }
    next.set(key, taken);
    if (last > expected) plan.advance.push({ key, expected, seq: last });
  }
  // The chunk's order, with each key's taken events put back in ascending order in the places
  // its taken events held (a slot is a taken event's place; what fills it is the key's next).
  const slots = new Set([...next.values()].flat());
  for (const envelope of chunk) {
    const key = envelope.orderingKey;
    if (key === undefined || envelope.keySeq === undefined) plan.take.push(envelope);
    else if (slots.has(envelope)) plan.take.push(next.get(key)?.shift() as EventEnvelope);
  }
  return plan;
}

/**
 * Writes the plan's progress in the attempt's transaction; throws `KeyProgressConflictError` if a
 * key moved meanwhile. `statement` (default: the progress alone) may add its own CTEs and columns
 * around `PROGRESS_CTES` (parameters $1-$4) and `PROGRESS_ADVANCED`, with `extra` values from $5:
 * the subscriber writes its inbox rows in the same round trip. Returns the statement's row.
 */
export async function advanceProgress<R extends { advanced: string }>(
  client: PoolClient,
  subscriber: string,
  plan: DeliveryPlan,
  statement: { name: string; text: string } = { name: 'modulith-key-progress-advance', text: ADVANCE_PROGRESS },
  extra: unknown[] = [],
): Promise<R | undefined> {
  if (plan.advance.length === 0) return undefined;
  // In key order, like producers lock `ordering_keys`, so two attempts sharing keys take their row
  // locks alike (the planner joins a small input in its order); a deadlock would only cost an attempt.
  plan.advance.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  let rows: R[];
  try {
    ({ rows } = await client.query<R>({
      ...statement,
      values: [subscriber, plan.advance.map((entry) => entry.key), plan.advance.map((entry) => entry.expected), plan.advance.map((entry) => entry.seq), ...extra],
    }));
  } catch (error) {
    // Two attempts advancing the same keys met in the other order: the one PostgreSQL chose to
    // abort is planned again, like any other move of a key under it, not counted as a failure.
    if ((error as { code?: unknown } | null)?.code === DEADLOCK_DETECTED) {
      throw new KeyProgressConflictError(`${subscriber}: ordering keys advanced by another attempt at the same time`, { subscriber }, { cause: error });
    }
    throw error;
  }
  if (Number(rows[0]?.advanced) !== plan.advance.length) {
    throw new KeyProgressConflictError(`${subscriber}: an ordering key moved on during the attempt`, { subscriber });
  }
  return rows[0];
}

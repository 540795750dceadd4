// What the ordered-delivery tests compare: what the producer committed (`ordered_producer.sent`)
// with what each subscriber applied (`<schema>.applied`, in the order it applied them).
import type { Sql } from '@modulith/testing';
import { ORDERED_SUBSCRIBERS, type OrderedConsumer } from './ordered-events';

export interface Applied {
  /** Order of application (a sequence, taken when the row was written). */
  n: number;
  eventId: string;
  keySeq: number | null;
}

/** Per key, the committed events' ids in keySeq order, and their keySeqs as numbered. */
export async function sentByKey(sql: Sql, keyPrefix = ''): Promise<Map<string, { ids: string[]; seqs: (number | null)[] }>> {
  const rows = await sql<{ event_id: string; ordering_key: string | null; key_seq: string | null; label: string }>(
    `SELECT event_id, ordering_key, key_seq, label FROM ordered_producer.sent WHERE coalesce(ordering_key, label) LIKE $1 || '%' ORDER BY ordering_key, key_seq, label`,
    [keyPrefix],
  );
  const byKey = new Map<string, { ids: string[]; seqs: (number | null)[] }>();
  for (const row of rows) {
    const key = row.ordering_key ?? `(no key: ${row.label})`;
    const entry = byKey.get(key) ?? { ids: [], seqs: [] };
    entry.ids.push(row.event_id);
    entry.seqs.push(row.key_seq === null ? null : Number(row.key_seq));
    byKey.set(key, entry);
  }
  return byKey;
}

/** Per key, what `consumer` applied, in the order it applied them. */
export async function appliedByKey(sql: Sql, consumer: OrderedConsumer): Promise<Map<string, Applied[]>> {
  const rows = await sql<{ n: string; event_id: string; ordering_key: string | null; key_seq: string | null; label: string }>(
    `SELECT n, event_id, ordering_key, key_seq, label FROM "${ORDERED_SUBSCRIBERS[consumer].schema}".applied ORDER BY n`,
  );
  const byKey = new Map<string, Applied[]>();
  for (const row of rows) {
    const key = row.ordering_key ?? `(no key: ${row.label})`;
    byKey.set(key, [...(byKey.get(key) ?? []), { n: Number(row.n), eventId: row.event_id, keySeq: row.key_seq === null ? null : Number(row.key_seq) }]);
  }
  return byKey;
}

/** keySeqs `consumer` applied for `key`, in the order it applied them. */
export async function appliedSeqs(sql: Sql, consumer: OrderedConsumer, key: string): Promise<(number | null)[]> {
  const rows = await sql<{ key_seq: string | null }>(`SELECT key_seq FROM "${ORDERED_SUBSCRIBERS[consumer].schema}".applied WHERE ordering_key = $1 ORDER BY n`, [key]);
  return rows.map((row) => (row.key_seq === null ? null : Number(row.key_seq)));
}

const ONE_TO = (count: number): number[] => Array.from({ length: count }, (_, index) => index + 1);

/**
 * Every way `consumer` broke per-key delivery against what was committed: a key whose events
 * the producer did not number 1..n without gaps, or whose applied keySeqs (in the order
 * applied) are not exactly 1..n, or not the committed events. Empty when each key's events
 * were applied in order, each once. `skip` leaves keys out (checked separately).
 */
export async function orderProblems(sql: Sql, consumer: OrderedConsumer, options: { keyPrefix?: string; skip?: readonly string[] } = {}): Promise<string[]> {
  const sent = await sentByKey(sql, options.keyPrefix);
  const applied = await appliedByKey(sql, consumer);
  const problems: string[] = [];
  for (const [key, { ids, seqs }] of sent) {
    if (options.skip?.includes(key)) continue;
    const want = ONE_TO(ids.length);
    if (JSON.stringify(seqs) !== JSON.stringify(want)) problems.push(`${key}: the producer numbered ${JSON.stringify(seqs)}, not 1..${ids.length}`);
    const got = applied.get(key) ?? [];
    const gotSeqs = got.map((row) => row.keySeq);
    if (JSON.stringify(gotSeqs) !== JSON.stringify(want)) problems.push(`${consumer} ${key}: applied keySeqs ${JSON.stringify(gotSeqs)}, want 1..${ids.length}`);
    else if (got.some((row, index) => row.eventId !== ids[index])) problems.push(`${consumer} ${key}: applied other events than were committed`);
  }
  for (const key of applied.keys()) {
    if (!sent.has(key) && key.startsWith(options.keyPrefix ?? '')) problems.push(`${consumer} ${key}: applied, never committed`);
  }
  return problems.slice(0, 20);
}

/** Whether `consumer` applied as many events of each key (but `except`) as were committed. */
export async function caughtUp(sql: Sql, consumer: OrderedConsumer, except: readonly string[] = []): Promise<boolean> {
  const [row] = await sql<{ behind: number }>(
    `SELECT count(*)::int AS behind FROM (
       SELECT ordering_key, count(*) AS n FROM ordered_producer.sent WHERE ordering_key <> ALL ($1::text[]) GROUP BY ordering_key) s
       LEFT JOIN (SELECT ordering_key, count(*) AS n FROM "${ORDERED_SUBSCRIBERS[consumer].schema}".applied GROUP BY ordering_key) a USING (ordering_key)
      WHERE coalesce(a.n, 0) < s.n`,
    [except],
  );
  return row.behind === 0;
}

/**
 * The bare-SQL bound for issue 13's shape: the same work as the ceiling (`bare-sql.ts`), with no
 * transaction across delivery. A claim is one statement in its own transaction that deletes a
 * batch from the outbox and appends it to a log (one row, the batch as JSON, as the platform's
 * event log); each subscriber then applies the batch, handed on in memory, in a transaction of
 * its own: inbox + effect + its cursor in one statement. So three commits per batch where the
 * ceiling has one, and the payloads written twice.
 *
 * Keyed (`bare_split_keyed`), as the platform's keyed path: the producer numbers each event per
 * key (the transfer's `to` account, 1,000 keys) in its statement, locking the keys' counters until
 * it commits; one claim loop takes events in insertion order; each subscriber's statement also
 * moves its progress per key, only from the number just before the batch's first of that key
 * (a gap is counted, and fails the run's checks), and the batch is split between its appliers by key.
 *
 * It is generous to that shape, which is what makes it a bound: each subscriber's transaction is
 * one statement with no handler code between BEGIN and COMMIT, nothing is retried or held, the log
 * is never pruned, and unkeyed claims run side by side (SKIP LOCKED, no order between them).
 */
import type { Pool } from 'pg';
import { uuidv7 } from '@modulith/core';
import { BATCH } from '../../lib/config';
import type { Transfer } from '../../lib/transfers';
import { CLAIMED, OUTBOX_TABLE, outboxLeft, produceBatch } from './bare-outbox';
import { committed, delivering, effectParams, effectSql, handled, hash, SUBSCRIBERS, transferColumns, Wakeup, type PeerPipeline, type Subscriber } from './peer';

/** Batches one subscriber applies at once (the platform's `RELAY_CONCURRENCY` in the bench). */
const APPLIERS = 2;

/** The log and a cursor row per name in `cursors` (`bare.event_log`, `bare.log_cursors`). */
export const logTables = (cursors: readonly string[]): string => `
  CREATE TABLE IF NOT EXISTS bare.event_log (position bigserial PRIMARY KEY, events json NOT NULL);
  ALTER TABLE bare.event_log ALTER COLUMN events SET STORAGE EXTERNAL;
  CREATE TABLE IF NOT EXISTS bare.log_cursors (subscriber text PRIMARY KEY, position bigint NOT NULL);
  INSERT INTO bare.log_cursors SELECT unnest(ARRAY['${cursors.join("','")}']), 0 ON CONFLICT DO NOTHING`;

/** Appends the claimed rows to the log as one row; returns them with its position. */
function claimAndLog(claimed: string, columns: string): string {
  return `
  WITH claimed AS (${claimed}),
  logged AS (
    INSERT INTO bare.event_log (events)
    SELECT json_agg(json_build_object(${columns.split(', ').map((column) => `'${column}', ${column}`).join(', ')})) FROM claimed HAVING count(*) > 0
    RETURNING position)
  SELECT ${columns}, (SELECT position FROM logged) AS position FROM claimed`;
}

/** A common table expression moving the cursor row `cursor` to the position in parameter `$n`. */
export const cursorMove = (cursor: string, n = 5): string =>
  `moved AS (UPDATE bare.log_cursors SET position = greatest(position, $${n}) WHERE subscriber = '${cursor}')`;

// ------------------------------------------------------------ keyed

const KEYED_TABLES = `
  CREATE SCHEMA IF NOT EXISTS bare;
  CREATE TABLE IF NOT EXISTS bare.outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id uuid NOT NULL, type text NOT NULL, version integer NOT NULL,
    occurred_at timestamptz NOT NULL, source text NOT NULL, correlation_id text NOT NULL, causation_id text, payload json NOT NULL,
    ordering_key text NOT NULL, key_seq bigint NOT NULL);
  CREATE TABLE IF NOT EXISTS bare.ordering_keys (ordering_key text PRIMARY KEY, seq bigint NOT NULL);
  CREATE TABLE IF NOT EXISTS bare.key_progress (subscriber text NOT NULL, ordering_key text NOT NULL, seq bigint NOT NULL,
    PRIMARY KEY (subscriber, ordering_key))`;

/**
 * Common table expressions reserving numbers for the events of `events` (a CTE with an
 * `ordering_key` column) per key: `counts` (events per key) and `reserved` (the key's last number
 * now); an event's number is `last - count + its rank among its key's events`.
 */
export const keyReservation = (events: string): string => `
  counts AS (SELECT ordering_key, count(*) AS count FROM ${events} GROUP BY ordering_key),
  reserved AS (
    INSERT INTO bare.ordering_keys AS k (ordering_key, seq) SELECT ordering_key, count FROM counts ORDER BY ordering_key
    ON CONFLICT (ordering_key) DO UPDATE SET seq = k.seq + excluded.seq
    RETURNING ordering_key, seq AS last)`;

// Keys reserved in sorted order (no deadlock between producers); each key's counter stays locked
// until the transaction commits, so one key's numbers follow commit order, as the platform's.
const PRODUCE_KEYED = `
  WITH stored AS (
    INSERT INTO app.transfers (id, from_account, to_account, amount, currency, occurred_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
    ON CONFLICT (id) DO NOTHING
    RETURNING id),
  e AS (
    SELECT e.* FROM unnest($7::uuid[], $1::text[], $8::json[], $3::text[]) WITH ORDINALITY AS e(id, transfer_id, payload, ordering_key, n)
      JOIN stored ON stored.id = e.transfer_id),
  ${keyReservation('e')}
  INSERT INTO bare.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload, ordering_key, key_seq)
  SELECT e.id, 'ingestion.transfer-ingested', 1, now(), 'ingestion', $9, NULL, e.payload, e.ordering_key,
         r.last - c.count + row_number() OVER (PARTITION BY e.ordering_key ORDER BY e.n)
    FROM e JOIN reserved r USING (ordering_key) JOIN counts c USING (ordering_key)
   ORDER BY e.n`;

const CLAIMED_KEYED = `
  DELETE FROM bare.outbox
   WHERE seq = ANY (ARRAY(SELECT seq FROM bare.outbox ORDER BY seq LIMIT ${BATCH}))
  RETURNING seq, id, payload, ordering_key, key_seq`;

/**
 * Common table expressions moving `subscriber`'s progress per key over the batch's run of it
 * (keys in parameter $6, their numbers in $7): from the number just before the run's first, or
 * from nothing when the run starts at 1. `KEYS_FOLLOWED` is false when a run did not follow.
 */
export const keyProgressMove = (subscriber: string): string => `
    runs AS (
      SELECT ordering_key, count(*) AS count, max(key_seq) AS last
        FROM unnest($6::text[], $7::bigint[]) AS r(ordering_key, key_seq) GROUP BY ordering_key),
    advanced AS (
      INSERT INTO bare.key_progress AS p (subscriber, ordering_key, seq)
      SELECT '${subscriber}', ordering_key, last FROM runs WHERE last = count ORDER BY ordering_key
      ON CONFLICT (subscriber, ordering_key) DO NOTHING
      RETURNING ordering_key),
    followed AS (
      UPDATE bare.key_progress p SET seq = r.last FROM runs r
       WHERE p.subscriber = '${subscriber}' AND p.ordering_key = r.ordering_key AND p.seq = r.last - r.count
      RETURNING p.ordering_key)`;
export const KEYS_FOLLOWED = '(SELECT count(*) FROM advanced) + (SELECT count(*) FROM followed) = (SELECT count(*) FROM runs)';

/** Inbox + effect + cursor, and each key's progress moved over the batch's run of it: `ok` is false when a run does not follow its key's progress. */
function keyedApply(subscriber: Subscriber, cursor: string): string {
  return `
    WITH ${cursorMove(cursor)},
    ${keyProgressMove(subscriber)},
    fresh AS (
      INSERT INTO fx.inbox (subscriber, event_id) SELECT '${subscriber}', unnest($1::uuid[])
      ON CONFLICT DO NOTHING RETURNING event_id),
    effect AS (
      INSERT INTO fx.${subscriber} AS t (transfer_id, k, amount)
      SELECT e.transfer_id, e.k, e.amount
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[]) AS e(event_id, transfer_id, k, amount)
        JOIN fresh USING (event_id)
      ON CONFLICT (transfer_id) DO UPDATE SET k = excluded.k, amount = excluded.amount)
    SELECT ${KEYS_FOLLOWED} AS ok`;
}

// ------------------------------------------------------------ both

interface ClaimedEvent {
  id: string;
  transfer: Transfer;
  key?: string;
  keySeq?: string;
}

interface Claimed {
  position: string;
  events: ClaimedEvent[];
}

/**
 * One applier of one subscriber: its log cursor, its batches waiting (keyed: its share of each
 * batch, by key), its sleep. Each applier moves a cursor row of its own: one row per subscriber
 * made each of its two appliers' commits wait for the other's (the row lock).
 */
interface Applier {
  subscriber: Subscriber;
  cursor: string;
  queue: Claimed[];
  wakeup: Wakeup;
}

export class BareSqlSplit implements PeerPipeline {
  private pool!: Pool;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly claimWakeups: Wakeup[];
  private readonly appliers: Applier[] = SUBSCRIBERS.flatMap((subscriber) =>
    Array.from({ length: APPLIERS }, (_, index) => ({ subscriber, cursor: `${subscriber}-${index}`, queue: [], wakeup: new Wakeup() })),
  );
  private violations = 0;
  private readonly claim: string;
  /** Each applier's statement, by its cursor. */
  private readonly apply: Map<string, string>;

  constructor(private readonly keyed: boolean) {
    // Keyed claims go one at a time, in insertion order (each key's events in the order committed).
    this.claimWakeups = Array.from({ length: keyed ? 1 : 2 }, () => new Wakeup());
    this.claim = keyed ? claimAndLog(CLAIMED_KEYED, 'id, payload, ordering_key, key_seq') : claimAndLog(CLAIMED, 'id, payload');
    this.apply = new Map(
      this.appliers.map(({ subscriber, cursor }) => [cursor, keyed ? keyedApply(subscriber, cursor) : effectSql(subscriber, 'uuid', cursorMove(cursor))]),
    );
  }

  /** Keyed: batches whose statement found a key not where the batch follows on (reported as a check, not a crash). */
  get orderViolations(): number | undefined {
    return this.keyed ? this.violations : undefined;
  }

  get poolSize(): number {
    return this.claimWakeups.length + this.appliers.length + 3;
  }

  async setup(pool: Pool): Promise<void> {
    this.pool = pool;
    await pool.query(this.keyed ? KEYED_TABLES : OUTBOX_TABLE);
    await pool.query(logTables(this.appliers.map((applier) => applier.cursor)));
  }

  async produce(batch: Transfer[]): Promise<void> {
    if (this.keyed) {
      const ids = batch.map(() => uuidv7());
      await this.pool.query(PRODUCE_KEYED, [...transferColumns(batch), ids, batch.map((t) => JSON.stringify(t)), ids[0]]);
      committed(batch.map((t) => t.id));
    } else {
      await produceBatch(this.pool, batch);
    }
    for (const wakeup of this.claimWakeups) wakeup.signal();
  }

  async startConsumers(): Promise<void> {
    this.running = true;
    this.loops = [...this.claimWakeups.map((wakeup) => this.claimLoop(wakeup)), ...this.appliers.map((applier) => this.applyLoop(applier))];
  }

  async stopConsumers(): Promise<void> {
    this.running = false;
    for (const wakeup of [...this.claimWakeups, ...this.appliers.map((applier) => applier.wakeup)]) wakeup.signal();
    await Promise.all(this.loops);
  }

  private async claimLoop(wakeup: Wakeup): Promise<void> {
    while (this.running) {
      const { rows } = await this.pool.query<{ id: string; payload: Transfer; ordering_key?: string; key_seq?: string; position: string }>(this.claim);
      if (rows.length > 0) {
        const events = rows.map((row) => ({ id: row.id, transfer: row.payload, key: row.ordering_key, keySeq: row.key_seq }));
        delivering(events.map((event) => event.transfer.id));
        for (const subscriber of SUBSCRIBERS) this.handOn(subscriber, { position: rows[0].position, events });
      }
      if (rows.length < BATCH && this.running) await wakeup.sleep(1000);
    }
  }

  /** Unkeyed: the whole batch to whichever applier is free first. Keyed: each key's events to one applier, in order. */
  private handOn(subscriber: Subscriber, claimed: Claimed): void {
    const mine = this.appliers.filter((applier) => applier.subscriber === subscriber);
    if (!this.keyed) {
      mine[0].queue.push(claimed);
      for (const applier of mine) applier.wakeup.signal();
      return;
    }
    const shares = mine.map(() => [] as ClaimedEvent[]);
    for (const event of claimed.events) shares[hash(event.key as string) % mine.length].push(event);
    mine.forEach((applier, index) => {
      if (shares[index].length === 0) return;
      applier.queue.push({ position: claimed.position, events: shares[index] });
      applier.wakeup.signal();
    });
  }

  /** Applies batches as they come (unkeyed: from the subscriber's shared queue), one statement each. */
  private async applyLoop(applier: Applier): Promise<void> {
    const queue = this.keyed ? applier.queue : this.appliers.filter((other) => other.subscriber === applier.subscriber)[0].queue;
    while (this.running || queue.length > 0) {
      const claimed = queue.shift();
      if (!claimed) {
        if (this.running) await applier.wakeup.sleep(1000);
        continue;
      }
      const params = [...effectParams(applier.subscriber, claimed.events), claimed.position];
      if (this.keyed) params.push(claimed.events.map((event) => event.key), claimed.events.map((event) => event.keySeq));
      const { rows } = await this.pool.query<{ ok?: boolean }>(this.apply.get(applier.cursor) as string, params);
      if (this.keyed && rows[0]?.ok !== true) this.violations += 1;
      handled(
        applier.subscriber,
        claimed.events.map((event) => event.transfer.id),
      );
    }
  }

  async leftovers(): Promise<number> {
    return (await outboxLeft(this.pool)) + this.appliers.reduce((sum, applier) => sum + applier.queue.length, 0);
  }

  async reset(): Promise<void> {
    await this.pool.query('TRUNCATE bare.outbox, bare.event_log');
  }

  async close(): Promise<void> {
    await this.stopConsumers();
  }
}

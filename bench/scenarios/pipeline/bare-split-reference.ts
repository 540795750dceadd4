/**
 * The bare-SQL bound for the reference app: its work, in issue 13's shape (see `bare-split.ts`),
 * with nothing of the platform's. Per batch of transfers:
 * - the producer stores the transfers and one `TransferIngested` each in one statement;
 * - one claim loop (claims one at a time, in insertion order, as the platform's relay lock makes
 *   them) deletes a batch from the outbox and appends it to the log, a row per event type;
 * - `ledger` (one applier, as `ledger.apply-transfers` runs with `concurrency: 1`): inbox, the
 *   net change of every balance, two entries per transfer with the balance after each, and one
 *   `BalanceChanged` per entry into the outbox, numbered per balance (its ordering key);
 * - `analytics` (one applier): inbox and the hourly buckets;
 * - `statement` (two appliers, each key's events on one): inbox, key progress by compare-and-set
 *   (a batch that does not follow it is counted, and fails the run's checks), and one statement
 *   line per change, its balance the previous line's plus the change.
 * Each applier's batch is one statement in its own transaction, its cursor moved in it. The
 * same tables and statements as the app's modules (`libs/ledger`, `libs/analytics`), merged into
 * one statement per batch, so generous to the shape as the other bounds: no handler code or
 * second round trip inside a transaction, no retries, nothing held, no pruning.
 */
import type { Pool } from 'pg';
import { BATCH } from '../../lib/config';
import { nowMs } from '../../lib/ipc';
import type { Transfer } from '../../lib/transfers';
import { produceBatch } from './bare-outbox';
import { cursorMove, KEYS_FOLLOWED, keyProgressMove, keyReservation, logTables } from './bare-split';
import { delivering, handled, hash, sleep, Wakeup, type Check, type PeerPipeline, type Subscriber } from './peer';

const TRANSFER_INGESTED = 'ingestion.transfer-ingested';
const BALANCE_CHANGED = 'ledger.balance-changed';
const APPLIERS = { ledger: 1, analytics: 1, statement: 2 } as const;
type Consumer = keyof typeof APPLIERS;
const CONSUMERS = Object.keys(APPLIERS) as Consumer[];

// The outbox of both event types (BalanceChanged keyed, TransferIngested not: the producer is
// `produceBatch`, as the unkeyed bound's), and the app's ledger and analytics tables (their
// migrations, as they stand after the last one).
const TABLES = `
  CREATE SCHEMA IF NOT EXISTS bare;
  CREATE TABLE IF NOT EXISTS bare.outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id uuid NOT NULL, type text NOT NULL, version integer NOT NULL,
    occurred_at timestamptz NOT NULL, source text NOT NULL, correlation_id text NOT NULL, causation_id text, payload json NOT NULL,
    ordering_key text, key_seq bigint);
  CREATE TABLE IF NOT EXISTS bare.ordering_keys (ordering_key text PRIMARY KEY, seq bigint NOT NULL);
  CREATE TABLE IF NOT EXISTS bare.key_progress (subscriber text NOT NULL, ordering_key text NOT NULL, seq bigint NOT NULL,
    PRIMARY KEY (subscriber, ordering_key));
  CREATE SCHEMA IF NOT EXISTS ledger;
  CREATE TABLE IF NOT EXISTS ledger.balances (account text NOT NULL, currency char(3) NOT NULL, balance numeric NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (account, currency));
  CREATE TABLE IF NOT EXISTS ledger.entries (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, transfer_id text NOT NULL,
    account text NOT NULL, currency char(3) NOT NULL, amount bigint NOT NULL CHECK (amount <> 0), balance_after numeric NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (transfer_id, account));
  CREATE INDEX IF NOT EXISTS entries_account_idx ON ledger.entries (account, seq);
  CREATE TABLE IF NOT EXISTS ledger.statement_lines (account text NOT NULL, currency char(3) NOT NULL, entry_seq bigint NOT NULL,
    amount bigint NOT NULL, balance_after numeric NOT NULL, PRIMARY KEY (account, currency, entry_seq));
  CREATE SCHEMA IF NOT EXISTS analytics;
  CREATE TABLE IF NOT EXISTS analytics.hourly (hour timestamptz NOT NULL, currency char(3) NOT NULL, count bigint NOT NULL,
    volume numeric(40, 0) NOT NULL, largest bigint NOT NULL, PRIMARY KEY (hour, currency));
  CREATE INDEX IF NOT EXISTS hourly_currency_idx ON analytics.hourly (currency, hour)`;

// A log row per event type, as the platform's relay appends them.
const CLAIM = `
  WITH claimed AS (
    DELETE FROM bare.outbox
     WHERE seq = ANY (ARRAY(SELECT seq FROM bare.outbox ORDER BY seq LIMIT ${BATCH}))
    RETURNING seq, id, type, payload, ordering_key, key_seq),
  logged AS (
    INSERT INTO bare.event_log (events)
    SELECT json_agg(json_build_object('id', id, 'type', type, 'payload', payload, 'ordering_key', ordering_key, 'key_seq', key_seq) ORDER BY seq)
      FROM claimed GROUP BY type
    RETURNING position)
  SELECT id, type, payload, ordering_key, key_seq, (SELECT max(position) FROM logged) AS position FROM claimed ORDER BY seq`;

// addToBalances, the entries with the balance after each (withBalancesAfter: the last posting of
// a balance ends at its new value) and one BalanceChanged per entry, numbered per balance with
// its key's counter locked until commit (Outbox.append). Postings in the app's order: per
// transfer the debit of `from`, then the credit of `to`.
const APPLY_LEDGER = `
  WITH ${cursorMove('ledger', 7)},
  fresh AS (
    INSERT INTO fx.inbox (subscriber, event_id) SELECT 'ledger', unnest($1::uuid[])
    ON CONFLICT DO NOTHING RETURNING event_id),
  transfers AS (
    SELECT t.* FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY
                    AS t(event_id, transfer_id, from_account, to_account, amount, currency, n)
      JOIN fresh USING (event_id)),
  postings AS (
    SELECT transfer_id, from_account AS account, currency, -amount AS amount, 2 * n AS n FROM transfers
    UNION ALL
    SELECT transfer_id, to_account, currency, amount, 2 * n + 1 FROM transfers),
  balances AS (
    INSERT INTO ledger.balances AS b (account, currency, balance)
    SELECT account, currency, sum(amount) FROM postings GROUP BY account, currency ORDER BY account, currency
    ON CONFLICT (account, currency) DO UPDATE SET balance = b.balance + excluded.balance, updated_at = now()
    RETURNING account, currency, balance),
  entries AS (
    INSERT INTO ledger.entries (transfer_id, account, currency, amount, balance_after)
    SELECT p.transfer_id, p.account, p.currency, p.amount,
           b.balance - coalesce(sum(p.amount) OVER (PARTITION BY p.account, p.currency ORDER BY p.n DESC
                                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
      FROM postings p JOIN balances b ON b.account = p.account AND b.currency = p.currency
     ORDER BY p.n
    RETURNING seq, transfer_id, account, currency, amount, balance_after),
  changes AS (SELECT e.*, e.account || '/' || e.currency AS ordering_key FROM entries e),
  ${keyReservation('changes')}
  INSERT INTO bare.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload, ordering_key, key_seq)
  SELECT gen_random_uuid(), '${BALANCE_CHANGED}', 1, now(), 'ledger', $8, $8,
         json_build_object('account', c.account, 'currency', c.currency, 'balance', c.balance_after::text, 'delta', c.amount::text,
                           'transferId', c.transfer_id, 'entrySeq', c.seq::text),
         c.ordering_key, r.last - n.count + row_number() OVER (PARTITION BY c.ordering_key ORDER BY c.seq)
    FROM changes c JOIN reserved r USING (ordering_key) JOIN counts n USING (ordering_key)
   ORDER BY c.seq`;

// AnalyticsRepository.record.
const APPLY_ANALYTICS = `
  WITH ${cursorMove('analytics', 5)},
  fresh AS (
    INSERT INTO fx.inbox (subscriber, event_id) SELECT 'analytics', unnest($1::uuid[])
    ON CONFLICT DO NOTHING RETURNING event_id)
  INSERT INTO analytics.hourly AS h (hour, currency, count, volume, largest)
  SELECT date_trunc('hour', t.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', t.currency, count(*), sum(t.amount), max(t.amount)
    FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::bigint[]) AS t(event_id, occurred_at, currency, amount)
    JOIN fresh USING (event_id)
   GROUP BY 1, 2
   ORDER BY 1, 2
  ON CONFLICT (hour, currency) DO UPDATE
    SET count = h.count + excluded.count, volume = h.volume + excluded.volume, largest = greatest(h.largest, excluded.largest)`;

// Key progress by compare-and-set (as the keyed bound), then StatementRepository.heads and
// insertLines: each line's balance the previous line's plus its change. `ok` is false when a
// batch does not follow its keys' progress. Each applier moves a cursor of its own (`cursor`):
// its keys' events are its alone, and one cursor row shared by both made each applier's commit
// wait for the other's (its row lock).
const applyStatement = (cursor: string): string => `
  WITH ${cursorMove(cursor, 8)}, ${keyProgressMove('statement')},
  fresh AS (
    INSERT INTO fx.inbox (subscriber, event_id) SELECT 'statement', unnest($1::uuid[])
    ON CONFLICT DO NOTHING RETURNING event_id),
  changes AS (
    SELECT c.* FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS c(event_id, account, currency, entry_seq, delta)
      JOIN fresh USING (event_id)),
  heads AS (
    SELECT k.account, k.currency, l.balance_after
      FROM (SELECT DISTINCT account, currency FROM changes) k
      CROSS JOIN LATERAL (SELECT balance_after FROM ledger.statement_lines s
                           WHERE s.account = k.account AND s.currency = k.currency::char(3) ORDER BY s.entry_seq DESC LIMIT 1) l),
  lines AS (
    INSERT INTO ledger.statement_lines (account, currency, entry_seq, amount, balance_after)
    SELECT c.account, c.currency, c.entry_seq, c.delta,
           coalesce(h.balance_after, 0) + sum(c.delta) OVER (PARTITION BY c.account, c.currency ORDER BY c.entry_seq)
      FROM changes c LEFT JOIN heads h USING (account, currency))
  SELECT ${KEYS_FOLLOWED} AS ok`;

interface LogEvent {
  id: string;
  payload: Record<string, string>;
  key: string | null;
  keySeq: string | null;
}

interface Batch {
  position: string;
  events: LogEvent[];
}

/**
 * The queue's first batch joined by the batches behind it, up to `BATCH` events, as the platform's
 * log reader hands a subscriber the events of several log rows at once (`LogLane.handOver`): an
 * applier that fell behind applies its backlog in fewer, larger statements. Each key's events
 * stay in order; the batch's position is its last one's.
 */
function takeBatch(queue: Batch[]): Batch | undefined {
  const first = queue.shift();
  if (!first) return undefined;
  let { position, events } = first;
  while (queue.length > 0 && events.length + queue[0].events.length <= BATCH) {
    const next = queue.shift() as Batch;
    events = events.concat(next.events);
    position = next.position;
  }
  return { position, events };
}

/** One applier of one consumer: its log cursor, its batches waiting (statement: its keys' share of each), its sleep. */
interface Applier {
  consumer: Consumer;
  cursor: string;
  queue: Batch[];
  wakeup: Wakeup;
  busy: boolean;
}

export class BareSqlSplitReference implements PeerPipeline {
  private pool!: Pool;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly claimWakeup = new Wakeup();
  /** A claim is in flight or not handed on yet: what it took is in no queue, nor in the outbox. */
  private claiming = false;
  private readonly appliers: Applier[] = CONSUMERS.flatMap((consumer) =>
    Array.from({ length: APPLIERS[consumer] }, (_, index) => ({
      consumer,
      cursor: APPLIERS[consumer] === 1 ? consumer : `${consumer}-${index}`,
      queue: [],
      wakeup: new Wakeup(),
      busy: false,
    })),
  );
  private readonly statementSql = new Map(this.appliers.map((applier) => [applier.cursor, applyStatement(applier.cursor)]));

  /** Statement batches that found a key not where the batch follows on (a check after each run). */
  orderViolations = 0;

  /** Claim loop, appliers, two producers and one spare. */
  readonly poolSize = 1 + this.appliers.length + 3;

  async setup(pool: Pool): Promise<void> {
    this.pool = pool;
    await pool.query(TABLES);
    await pool.query(logTables(this.appliers.map((applier) => applier.cursor)));
  }

  async produce(batch: Transfer[]): Promise<void> {
    await produceBatch(this.pool, batch);
    this.claimWakeup.signal();
  }

  async startConsumers(): Promise<void> {
    this.running = true;
    this.loops = [this.claimLoop(), ...this.appliers.map((applier) => this.applyLoop(applier))];
  }

  async stopConsumers(): Promise<void> {
    this.running = false;
    for (const wakeup of [this.claimWakeup, ...this.appliers.map((applier) => applier.wakeup)]) wakeup.signal();
    await Promise.all(this.loops);
  }

  private async claimLoop(): Promise<void> {
    while (this.running) {
      this.claiming = true;
      const { rows } = await this.pool.query<{ id: string; type: string; payload: Record<string, string>; ordering_key: string | null; key_seq: string | null; position: string }>(CLAIM);
      const ingested: LogEvent[] = [];
      const changed: LogEvent[] = [];
      for (const row of rows) (row.type === TRANSFER_INGESTED ? ingested : changed).push({ id: row.id, payload: row.payload, key: row.ordering_key, keySeq: row.key_seq });
      if (ingested.length > 0) {
        delivering(ingested.map((event) => event.payload['id']));
        this.handOn('ledger', { position: rows[0].position, events: ingested });
        this.handOn('analytics', { position: rows[0].position, events: ingested });
      }
      if (changed.length > 0) this.handOn('statement', { position: rows[0].position, events: changed });
      this.claiming = false;
      if (rows.length < BATCH && this.running) await this.claimWakeup.sleep(1000);
    }
  }

  /** Each key's events to one applier of the consumer, in order (unkeyed consumers have one). */
  private handOn(consumer: Consumer, batch: Batch): void {
    const mine = this.appliers.filter((applier) => applier.consumer === consumer);
    const shares = mine.map(() => [] as LogEvent[]);
    for (const event of batch.events) shares[event.key === null ? 0 : hash(event.key) % mine.length].push(event);
    mine.forEach((applier, index) => {
      if (shares[index].length === 0) return;
      applier.queue.push({ position: batch.position, events: shares[index] });
      applier.wakeup.signal();
    });
  }

  private async applyLoop(applier: Applier): Promise<void> {
    while (this.running || applier.queue.length > 0) {
      const batch = takeBatch(applier.queue);
      if (!batch) {
        if (this.running) await applier.wakeup.sleep(1000);
        continue;
      }
      applier.busy = true;
      try {
        await this.apply(applier, batch);
      } finally {
        applier.busy = false;
      }
    }
  }

  private async apply({ consumer, cursor }: Applier, { position, events }: Batch): Promise<void> {
    const ids = events.map((event) => event.id);
    const field = (name: string): string[] => events.map((event) => event.payload[name]);
    if (consumer === 'ledger') {
      await this.pool.query(APPLY_LEDGER, [ids, field('id'), field('from'), field('to'), field('amount'), field('currency'), position, ids[0]]);
      this.claimWakeup.signal();
    } else if (consumer === 'analytics') {
      await this.pool.query(APPLY_ANALYTICS, [ids, field('occurredAt'), field('currency'), field('amount'), position]);
    } else {
      const params = [ids, field('account'), field('currency'), field('entrySeq'), field('delta'), events.map((event) => event.key), events.map((event) => event.keySeq), position];
      const { rows } = await this.pool.query<{ ok: boolean }>(this.statementSql.get(cursor) as string, params);
      if (rows[0]?.ok !== true) this.orderViolations += 1;
      return;
    }
    handled(consumer as Subscriber, field('id'));
  }

  /** Until the ledger's BalanceChanged events are claimed and the statement applied them all. */
  async settle(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (let waited = false; ; waited = true) {
      const idle = !this.claiming && this.appliers.every((applier) => applier.queue.length === 0 && !applier.busy);
      if (idle && (await this.outboxLeft()) === 0) return waited ? nowMs() : 0;
      if (Date.now() > deadline) throw new Error(`reference bound: not drained after ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  private async outboxLeft(): Promise<number> {
    return Number((await this.pool.query('SELECT count(*) AS n FROM bare.outbox')).rows[0].n);
  }

  async leftovers(): Promise<number> {
    return (await this.outboxLeft()) + this.appliers.reduce((sum, applier) => sum + applier.queue.length, 0);
  }

  /** The reference app's own checks (bench/lib/app-host.ts), statements against the ledger included. */
  async effectChecks(pool: Pool, n: number): Promise<Check[]> {
    const checks: Check[] = [];
    const expect = async (name: string, sql: string, expected: number): Promise<void> => {
      const actual = Number((await pool.query(sql)).rows[0].n);
      checks.push({ name, ok: actual === expected, detail: `${actual} (expected ${expected})` });
    };
    for (const [consumer, perTransfer] of [['ledger', 1], ['analytics', 1], ['statement', 2]] as const) {
      await expect(`${consumer} inbox`, `SELECT count(*) AS n FROM fx.inbox WHERE subscriber = '${consumer}'`, perTransfer * n);
    }
    await expect('ledger entries (2 per transfer)', 'SELECT count(*) AS n FROM ledger.entries', 2 * n);
    await expect('statement lines (2 per transfer)', 'SELECT count(*) AS n FROM ledger.statement_lines', 2 * n);
    await expect('analytics count', 'SELECT coalesce(sum(count), 0) AS n FROM analytics.hourly', n);
    // Every line is its entry, each balance the previous line's plus its amount, the last one the balance.
    await expect(
      'statement lines that do not follow their entries and balances',
      `WITH lines AS (
         SELECT s.*, coalesce(lag(s.balance_after) OVER w, 0) AS before, lead(s.entry_seq) OVER w IS NULL AS last
           FROM ledger.statement_lines s WINDOW w AS (PARTITION BY account, currency ORDER BY entry_seq))
       SELECT count(*) AS n FROM lines l
         LEFT JOIN ledger.entries e ON e.seq = l.entry_seq AND e.account = l.account AND e.currency = l.currency
         LEFT JOIN ledger.balances b ON l.last AND b.account = l.account AND b.currency = l.currency
        WHERE e.seq IS NULL OR e.amount <> l.amount OR e.balance_after <> l.balance_after
           OR l.balance_after <> l.before + l.amount OR (l.last AND b.balance IS DISTINCT FROM l.balance_after)`,
      0,
    );
    return checks;
  }

  async reset(): Promise<void> {
    // As the app between runs (bench/lib/app-host.ts): key numbering and progress go on.
    await this.pool.query('TRUNCATE bare.outbox, bare.event_log, ledger.balances, ledger.entries, ledger.statement_lines, analytics.hourly');
  }

  async close(): Promise<void> {
    await this.stopConsumers();
  }
}

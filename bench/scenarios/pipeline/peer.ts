/**
 * What the bare-SQL ceiling and the peers (pg-boss, graphile-worker, BullMQ) share, so that they
 * differ only in how events travel: the same transfers table as `ingestion.transfers`, the same
 * two subscribers (`ledger`, `analytics`) and the same effect for each, written exactly once with
 * an inbox: `inbox insert + one row upsert` in one statement. Each runs as a worker process.
 */
import { Pool, type PoolClient } from 'pg';
import { BATCH } from '../../lib/config';
import { nowMs, serve } from '../../lib/ipc';
import { produceAll, produceAtRate } from '../../lib/load';
import { RunProbe } from '../../lib/probe';
import { transfers as makeTransfers, type Transfer } from '../../lib/transfers';

export const SUBSCRIBERS = ['ledger', 'analytics'] as const;
export type Subscriber = (typeof SUBSCRIBERS)[number];

let probe: RunProbe | undefined;

/** The run being measured; handlers report to it (after their effect committed). */
export function handled(subscriber: Subscriber, transferIds: readonly string[]): void {
  probe?.handled(subscriber, transferIds);
}

/** Consumers report here when they take events (claimed, fetched, or the job started). */
export function delivering(transferIds: readonly string[]): void {
  probe?.delivering(transferIds);
}

/** Producers report here once their transaction committed. */
export function committed(transferIds: readonly string[]): void {
  probe?.committed(transferIds);
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface PeerPipeline {
  /** Creates the peer's own tables or keys; `pool` already has the shared schema. */
  setup(pool: Pool, options: { redisPrefix: string }): Promise<void>;
  /** Stores transfers and enqueues one event (or job per subscriber) for each; calls `probe.committed` when committed. */
  produce(batch: Transfer[]): Promise<void>;
  startConsumers(): Promise<void>;
  stopConsumers(): Promise<void>;
  /** Nothing left queued, in flight or failed. */
  leftovers(): Promise<number>;
  /**
   * Once both subscribers handled every transfer: waits for the peer's own later work (events its
   * subscribers published, and their subscriber), for up to `timeoutMs`; returns when it was done.
   */
  settle?(timeoutMs: number): Promise<number>;
  /** Checks of the peer's own effects, instead of the shared `fx` inbox and effect counts. */
  effectChecks?(pool: Pool, n: number): Promise<Check[]>;
  /** Keyed peers: batches applied that did not follow their keys' progress (checked to be 0 after each run). */
  readonly orderViolations?: number;
  /** Clears the peer's own bookkeeping between runs. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

// ------------------------------------------------------------ SQL shared by every peer

/** The same table as `ingestion.transfers` (see its migration). */
const SCHEMA = (idType: string): string => `
  CREATE SCHEMA IF NOT EXISTS app;
  CREATE TABLE IF NOT EXISTS app.transfers (
    id           text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    from_account text NOT NULL CHECK (length(from_account) BETWEEN 1 AND 128),
    to_account   text NOT NULL CHECK (length(to_account) BETWEEN 1 AND 128),
    amount       bigint NOT NULL CHECK (amount > 0),
    currency     char(3) NOT NULL,
    occurred_at  timestamptz NOT NULL,
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (from_account <> to_account));
  CREATE INDEX IF NOT EXISTS transfers_from_account_idx ON app.transfers (from_account, seq);
  CREATE INDEX IF NOT EXISTS transfers_to_account_idx ON app.transfers (to_account, seq);
  CREATE SCHEMA IF NOT EXISTS fx;
  CREATE TABLE IF NOT EXISTS fx.inbox (subscriber text NOT NULL, event_id ${idType} NOT NULL, handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscriber, event_id));
  CREATE TABLE IF NOT EXISTS fx.ledger (transfer_id text PRIMARY KEY, k text NOT NULL, amount bigint NOT NULL);
  CREATE TABLE IF NOT EXISTS fx.analytics (transfer_id text PRIMARY KEY, k text NOT NULL, amount bigint NOT NULL);`;

export const INSERT_TRANSFERS = `
  INSERT INTO app.transfers (id, from_account, to_account, amount, currency, occurred_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
  ON CONFLICT (id) DO NOTHING
  RETURNING id`;

export function transferColumns(batch: readonly Transfer[]): unknown[] {
  return [batch.map((t) => t.id), batch.map((t) => t.from), batch.map((t) => t.to), batch.map((t) => t.amount), batch.map((t) => t.currency), batch.map((t) => t.occurredAt)];
}

/**
 * Inbox insert and the effect for the events not seen before, in one statement: one row upsert
 * per event; `also` is one more common table expression run by the same statement.
 */
export function effectSql(subscriber: Subscriber, idType: 'uuid' | 'text', also?: string): string {
  return `
    WITH ${also ? `${also},` : ''} fresh AS (
      INSERT INTO fx.inbox (subscriber, event_id) SELECT '${subscriber}', unnest($1::${idType}[])
      ON CONFLICT DO NOTHING RETURNING event_id)
    INSERT INTO fx.${subscriber} AS t (transfer_id, k, amount)
    SELECT e.transfer_id, e.k, e.amount
      FROM unnest($1::${idType}[], $2::text[], $3::text[], $4::bigint[]) AS e(event_id, transfer_id, k, amount)
      JOIN fresh USING (event_id)
    ON CONFLICT (transfer_id) DO UPDATE SET k = excluded.k, amount = excluded.amount`;
}

/** The parameters of `effectSql` for events (id, transfer). */
export function effectParams(subscriber: Subscriber, events: readonly { id: string; transfer: Transfer }[]): unknown[] {
  return [
    events.map((e) => e.id),
    events.map((e) => e.transfer.id),
    events.map((e) => (subscriber === 'ledger' ? e.transfer.to : e.transfer.currency)),
    events.map((e) => e.transfer.amount),
  ];
}

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** A loop's sleep that a producer's commit cuts short (a signal while awake is kept for the next sleep). */
export class Wakeup {
  private pending = false;
  private sleeper?: () => void;
  signal(): void {
    const sleeper = this.sleeper;
    this.sleeper = undefined;
    if (sleeper) sleeper();
    else this.pending = true;
  }
  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeper = undefined;
        resolve();
      }, ms);
      this.sleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** FNV-1a of a string: a stable spread of keys over appliers. */
export function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) value = Math.imul(value ^ text.charCodeAt(index), 0x01000193);
  return value >>> 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------ the worker process

/** Serves one peer over IPC: setup, throughput and latency runs, verify, reset, close. */
export function servePeer(peer: PeerPipeline, { idType = 'text', poolSize = 8 }: { idType?: 'uuid' | 'text'; poolSize?: number } = {}): void {
  let pool: Pool;
  const run = async (prefix: string, n: number, timeoutMs: number, producing: () => Promise<unknown>): Promise<number> => {
    probe = new RunProbe(prefix, n, SUBSCRIBERS);
    await peer.startConsumers();
    try {
      const started = nowMs();
      await producing();
      await probe.whenComplete(timeoutMs);
      const settledAt = peer.settle ? await peer.settle(timeoutMs) : 0;
      return Math.max(probe.lastHandledAt, settledAt) - started;
    } finally {
      await peer.stopConsumers();
    }
  };
  const produce = (prefix: string) => (from: number, count: number) => peer.produce(makeTransfers(prefix, from, count));

  serve({
    async setup({ databaseUrl, redisPrefix }: { databaseUrl: string; redisPrefix: string }) {
      // Idle connections go after 1 s: every contender stays up for the whole scenario, and idle
      // pools of 20 (graphile-worker, BullMQ) would otherwise hold connections the one running
      // needs (the server's max_connections is shared with whatever else runs on it).
      pool = new Pool({ connectionString: databaseUrl, max: poolSize, idleTimeoutMillis: 1000 });
      pool.on('error', (error) => console.error(`idle PostgreSQL client: ${error.message}`));
      await pool.query(SCHEMA(idType));
      await peer.setup(pool, { redisPrefix });
    },
    async throughput({ prefix, n, timeoutMs }: { prefix: string; n: number; timeoutMs: number }) {
      const before = process.cpuUsage();
      const elapsedMs = await run(prefix, n, timeoutMs, () => produceAll(n, BATCH, 2, produce(prefix)));
      const { user, system } = process.cpuUsage(before);
      return { elapsedMs, cpuMicros: user + system };
    },
    async latency({ prefix, rate, seconds, timeoutMs }: { prefix: string; rate: number; seconds: number; timeoutMs: number }) {
      const n = Math.round(rate * seconds);
      let achievedRate = 0;
      await run(prefix, n, timeoutMs, async () => {
        achievedRate = (await produceAtRate(rate, seconds, produce(prefix))).achievedRate;
      });
      const summary = probe!.latencies();
      return { summary, achievedRate };
    },
    async verify({ n }: { n: number }): Promise<Check[]> {
      const one = async (sql: string): Promise<number> => Number((await pool.query(sql)).rows[0].n);
      const checks: Check[] = [];
      const expect = (name: string, actual: number, expected: number): void => {
        checks.push({ name, ok: actual === expected, detail: `${actual} (expected ${expected})` });
      };
      expect('transfers stored', await one('SELECT count(*) AS n FROM app.transfers'), n);
      if (peer.effectChecks) checks.push(...(await peer.effectChecks(pool, n)));
      else {
        for (const subscriber of SUBSCRIBERS) {
          expect(`${subscriber} inbox`, await one(`SELECT count(*) AS n FROM fx.inbox WHERE subscriber = '${subscriber}'`), n);
          expect(`${subscriber} effects`, await one(`SELECT count(*) AS n FROM fx.${subscriber}`), n);
        }
      }
      if (peer.orderViolations !== undefined) expect("batches that did not follow their keys' progress", peer.orderViolations, 0);
      expect('left queued, in flight or failed', await peer.leftovers(), 0);
      return checks;
    },
    async reset() {
      await pool.query('TRUNCATE app.transfers, fx.inbox, fx.ledger, fx.analytics');
      await peer.reset();
      probe = undefined;
    },
    async close() {
      await peer.close();
      await pool?.end();
    },
  } as never);
}

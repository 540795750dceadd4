/**
 * The bare-SQL ceiling: plain `pg`, no framework. The producer stores transfers and their events
 * in one statement (UNNEST); two claim loops take 500 events at a time with
 * `DELETE … FOR UPDATE SKIP LOCKED … RETURNING`, run each subscriber's inbox + effect statement
 * and commit: one transaction per batch for both subscribers. Woken in-process by the producer's
 * commits (they share the process), polling every second otherwise, like the relay.
 */
import type { Pool } from 'pg';
import { uuidv7 } from '@modulith/core';
import { BATCH } from '../../lib/config';
import type { Transfer } from '../../lib/transfers';
import { committed, delivering, effectParams, effectSql, handled, inTransaction, servePeer, SUBSCRIBERS, transferColumns, type PeerPipeline } from './peer';

const PRODUCE = `
  WITH stored AS (
    INSERT INTO app.transfers (id, from_account, to_account, amount, currency, occurred_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
    ON CONFLICT (id) DO NOTHING
    RETURNING id)
  INSERT INTO bare.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload)
  SELECT e.id, 'ingestion.transfer-ingested', 1, now(), 'ingestion', $9, NULL, e.payload
    FROM unnest($7::uuid[], $1::text[], $8::json[]) AS e(id, transfer_id, payload)
    JOIN stored ON stored.id = e.transfer_id`;

const CLAIM = `
  DELETE FROM bare.outbox
   WHERE id = ANY (ARRAY(SELECT id FROM bare.outbox ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED))
  RETURNING id, payload`;

const LOOPS = 2;
const EFFECTS = SUBSCRIBERS.map((subscriber) => ({ subscriber, sql: effectSql(subscriber, 'uuid') }));

class Wakeup {
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

class BareSql implements PeerPipeline {
  private pool!: Pool;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly wakeups = Array.from({ length: LOOPS }, () => new Wakeup());

  async setup(pool: Pool): Promise<void> {
    this.pool = pool;
    await pool.query(`
      CREATE SCHEMA IF NOT EXISTS bare;
      CREATE TABLE IF NOT EXISTS bare.outbox (
        id uuid PRIMARY KEY, type text NOT NULL, version integer NOT NULL, occurred_at timestamptz NOT NULL,
        source text NOT NULL, correlation_id text NOT NULL, causation_id text, payload json NOT NULL)`);
  }

  async produce(batch: Transfer[]): Promise<void> {
    const ids = batch.map(() => uuidv7());
    await this.pool.query(PRODUCE, [...transferColumns(batch), ids, batch.map((t) => JSON.stringify(t)), ids[0]]);
    committed(batch.map((t) => t.id));
    for (const wakeup of this.wakeups) wakeup.signal();
  }

  async startConsumers(): Promise<void> {
    this.running = true;
    this.loops = this.wakeups.map((wakeup) => this.loop(wakeup));
  }

  async stopConsumers(): Promise<void> {
    this.running = false;
    for (const wakeup of this.wakeups) wakeup.signal();
    await Promise.all(this.loops);
  }

  private async loop(wakeup: Wakeup): Promise<void> {
    while (this.running) {
      const claimed = await inTransaction(this.pool, async (client) => {
        const { rows } = await client.query<{ id: string; payload: Transfer }>(CLAIM);
        if (rows.length === 0) return [];
        const events = rows.map((row) => ({ id: row.id, transfer: row.payload }));
        delivering(events.map((event) => event.transfer.id));
        for (const effect of EFFECTS) await client.query(effect.sql, effectParams(effect.subscriber, events));
        return events;
      });
      if (claimed.length > 0) {
        const ids = claimed.map((event) => event.transfer.id);
        for (const subscriber of SUBSCRIBERS) handled(subscriber, ids);
      }
      if (claimed.length < BATCH && this.running) await wakeup.sleep(1000);
    }
  }

  async leftovers(): Promise<number> {
    return Number((await this.pool.query('SELECT count(*) AS n FROM bare.outbox')).rows[0].n);
  }

  async reset(): Promise<void> {
    await this.pool.query('TRUNCATE bare.outbox');
  }

  async close(): Promise<void> {
    await this.stopConsumers();
  }
}

servePeer(new BareSql(), { idType: 'uuid', poolSize: LOOPS + 3 });

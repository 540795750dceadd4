/**
 * The bare-SQL ceiling: plain `pg`, no framework. The producer stores transfers and their events
 * in one statement (UNNEST); two claim loops take 500 events at a time with
 * `DELETE … FOR UPDATE SKIP LOCKED … RETURNING`, run each subscriber's inbox + effect statement
 * and commit: one transaction per batch for both subscribers. Woken in-process by the producer's
 * commits (they share the process), polling every second otherwise, like the relay.
 */
import type { Pool } from 'pg';
import { BATCH } from '../../lib/config';
import type { Transfer } from '../../lib/transfers';
import { CLAIMED, OUTBOX_TABLE, outboxLeft, produceBatch } from './bare-outbox';
import { delivering, effectParams, effectSql, handled, inTransaction, servePeer, SUBSCRIBERS, Wakeup, type PeerPipeline } from './peer';

const LOOPS = 2;
const EFFECTS = SUBSCRIBERS.map((subscriber) => ({ subscriber, sql: effectSql(subscriber, 'uuid') }));

class BareSql implements PeerPipeline {
  private pool!: Pool;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly wakeups = Array.from({ length: LOOPS }, () => new Wakeup());

  async setup(pool: Pool): Promise<void> {
    this.pool = pool;
    await pool.query(OUTBOX_TABLE);
  }

  async produce(batch: Transfer[]): Promise<void> {
    await produceBatch(this.pool, batch);
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
        const { rows } = await client.query<{ id: string; payload: Transfer }>(CLAIMED);
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
    return outboxLeft(this.pool);
  }

  async reset(): Promise<void> {
    await this.pool.query('TRUNCATE bare.outbox');
  }

  async close(): Promise<void> {
    await this.stopConsumers();
  }
}

servePeer(new BareSql(), { idType: 'uuid', poolSize: LOOPS + 3 });

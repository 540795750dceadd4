/**
 * pg-boss (PostgreSQL job queue): one queue per subscriber. The producer stores the transfers and
 * inserts one job per transfer and queue in the same transaction (`insert` with `{ db }`).
 * Consumers: two `fetch` loops per queue, 500 jobs per fetch; each batch runs the inbox + effect
 * statement and `complete`s its jobs in one transaction. pg-boss 10 has no wake-up on insert:
 * an idle loop polls every 10 ms (its `work()` API polls at most every 500 ms; this is faster).
 */
import type { Pool, PoolClient } from 'pg';
import PgBoss from 'pg-boss';
import { BATCH } from '../../lib/config';
import type { Transfer } from '../../lib/transfers';
import { committed, delivering, effectParams, effectSql, handled, inTransaction, INSERT_TRANSFERS, servePeer, sleep, SUBSCRIBERS, transferColumns, type PeerPipeline, type Subscriber } from './peer';

const LOOPS_PER_QUEUE = 2;
const IDLE_POLL_MS = 10;

const executor = (client: PoolClient) => ({ executeSql: (text: string, values?: unknown[]) => client.query(text, values) });

class PgBossPipeline implements PeerPipeline {
  private pool!: Pool;
  private boss!: PgBoss;
  private running = false;
  private loops: Promise<void>[] = [];

  async setup(pool: Pool): Promise<void> {
    this.pool = pool;
    // Shares the peer's pool: its own queries and ours compete for the same 8 connections.
    this.boss = new PgBoss({ db: { executeSql: (text: string, values?: unknown[]) => pool.query(text, values) }, schema: 'pgboss', supervise: false, schedule: false } as never);
    this.boss.on('error', (error: Error) => console.error(`pg-boss: ${error.message}`));
    await this.boss.start();
    for (const queue of SUBSCRIBERS) await this.boss.createQueue(queue);
  }

  async produce(batch: Transfer[]): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(INSERT_TRANSFERS, transferColumns(batch));
      const stored = new Set(rows.map((row) => row.id));
      const fresh = batch.filter((t) => stored.has(t.id));
      const jobs = SUBSCRIBERS.flatMap((name) => fresh.map((transfer) => ({ name, data: transfer })));
      await this.boss.insert(jobs, { db: executor(client) } as never);
    });
    committed(batch.map((t) => t.id));
  }

  async startConsumers(): Promise<void> {
    this.running = true;
    this.loops = SUBSCRIBERS.flatMap((queue) => Array.from({ length: LOOPS_PER_QUEUE }, () => this.loop(queue)));
  }

  async stopConsumers(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(queue: Subscriber): Promise<void> {
    const sql = effectSql(queue, 'text');
    while (this.running) {
      const jobs = (await this.boss.fetch<Transfer>(queue, { batchSize: BATCH })) ?? [];
      if (jobs.length === 0) {
        await sleep(IDLE_POLL_MS);
        continue;
      }
      const events = jobs.map((job) => ({ id: job.data.id, transfer: job.data }));
      delivering(events.map((event) => event.transfer.id));
      await inTransaction(this.pool, async (client) => {
        await client.query(sql, effectParams(queue, events));
        // pg-boss 10 takes (name, ids, data, options) at run time; its typings omit `data` for arrays.
        const complete = this.boss.complete.bind(this.boss) as unknown as (name: string, ids: string[], data: null, options: object) => Promise<unknown>;
        await complete(queue, jobs.map((job) => job.id), null, { db: executor(client) });
      });
      handled(queue, events.map((event) => event.transfer.id));
    }
  }

  async leftovers(): Promise<number> {
    const { rows } = await this.pool.query(`SELECT count(*) AS n FROM pgboss.job WHERE state <> 'completed'`);
    return Number(rows[0].n);
  }

  async reset(): Promise<void> {
    await this.pool.query('TRUNCATE pgboss.job, pgboss.archive');
  }

  async close(): Promise<void> {
    await this.stopConsumers();
    await this.boss.stop({ graceful: false, wait: true } as never);
  }
}

servePeer(new PgBossPipeline(), { poolSize: 8 });

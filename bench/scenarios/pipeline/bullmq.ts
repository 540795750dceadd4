/**
 * BullMQ (Redis job queue): one queue per subscriber. The producer commits the transfers to
 * PostgreSQL, then adds one job per transfer to each queue (`addBulk`); the two cannot share a
 * transaction, so a crash between them loses jobs (the others do not have this gap). One Worker
 * per queue at concurrency 32, one job at a time per slot (batches are a BullMQ Pro feature);
 * each job runs the inbox + effect statement for its event. Completed jobs are removed; a failed
 * job is tried again (3 attempts, 100 ms apart).
 */
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import type { Pool } from 'pg';
import { REDIS_URL } from '../../lib/db';
import type { Transfer } from '../../lib/transfers';
import { committed, delivering, effectParams, effectSql, handled, INSERT_TRANSFERS, servePeer, SUBSCRIBERS, transferColumns, type PeerPipeline, type Subscriber } from './peer';

const CONCURRENCY = Number(process.env["BENCH_BULLMQ_CONCURRENCY"] ?? 32);
// A job that fails (e.g. a connection refused by a server at max_connections) is tried again, as
// pg-boss and graphile-worker do by default; BullMQ's default of one attempt would lose it.
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: 1000, attempts: 3, backoff: { type: 'fixed', delay: 100 } };

class BullMqPipeline implements PeerPipeline {
  private pool!: Pool;
  private prefix!: string;
  private connection!: IORedis;
  private queues!: Record<Subscriber, Queue>;
  private workers: Worker[] = [];
  private workerConnections: IORedis[] = [];

  async setup(pool: Pool, { redisPrefix }: { redisPrefix: string }): Promise<void> {
    this.pool = pool;
    this.prefix = `${redisPrefix}:bullmq`;
    this.connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    this.queues = {
      ledger: new Queue('ledger', { connection: this.connection, prefix: this.prefix }),
      analytics: new Queue('analytics', { connection: this.connection, prefix: this.prefix }),
    };
  }

  async produce(batch: Transfer[]): Promise<void> {
    const { rows } = await this.pool.query<{ id: string }>(INSERT_TRANSFERS, transferColumns(batch));
    committed(batch.map((t) => t.id));
    const stored = new Set(rows.map((row) => row.id));
    const jobs = batch.filter((t) => stored.has(t.id)).map((transfer) => ({ name: 'transfer', data: transfer, opts: JOB_OPTIONS }));
    await Promise.all(SUBSCRIBERS.map((queue) => this.queues[queue].addBulk(jobs)));
  }

  async startConsumers(): Promise<void> {
    this.workers = SUBSCRIBERS.map((queue) => {
      const sql = effectSql(queue, 'text');
      const worker = new Worker(
        queue,
        async (job) => {
          const transfer = job.data as Transfer;
          delivering([transfer.id]);
          await this.pool.query(sql, effectParams(queue, [{ id: transfer.id, transfer }]));
          handled(queue, [transfer.id]);
        },
        { connection: this.newConnection(), prefix: this.prefix, concurrency: CONCURRENCY },
      );
      worker.on('failed', (job, error) => console.error(`bullmq: job ${job?.id} failed: ${error.message}`));
      return worker;
    });
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  async stopConsumers(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await Promise.all(this.workerConnections.map((connection) => connection.quit().catch(() => undefined)));
    this.workers = [];
    this.workerConnections = [];
  }

  private newConnection(): IORedis {
    const connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    this.workerConnections.push(connection);
    return connection;
  }

  /** Jobs not finished; a job is handled before BullMQ marks it done, so give the last ones a moment. */
  async leftovers(): Promise<number> {
    const deadline = Date.now() + 5000;
    for (;;) {
      let left = 0;
      for (const queue of Object.values(this.queues)) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children');
        left += Object.values(counts).reduce((sum, value) => sum + value, 0);
      }
      if (left === 0 || Date.now() > deadline) return left;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async reset(): Promise<void> {
    // Completed jobs are removed as they complete.
  }

  async close(): Promise<void> {
    await this.stopConsumers();
    for (const queue of Object.values(this.queues ?? {})) {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    // Whatever BullMQ left under our prefix (meta keys, counters): ours alone, by prefix.
    let cursor = '0';
    do {
      const [next, keys] = await this.connection.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await this.connection.del(...keys);
    } while (cursor !== '0');
    await this.connection.quit();
  }
}

servePeer(new BullMqPipeline(), { poolSize: 20 });

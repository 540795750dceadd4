/**
 * graphile-worker (PostgreSQL job queue, LISTEN/NOTIFY on insert): one task per subscriber. The
 * producer stores the transfers and adds one job per transfer and task in the same transaction
 * (`graphile_worker.add_jobs`, which NOTIFYs once per call). The runner executes jobs one at a
 * time per worker slot (concurrency 32), with its batching features on: a local queue that locks
 * 500 jobs per fetch and batched completions. Each job runs the inbox + effect statement for
 * its one event (graphile-worker has no multi-job handler).
 */
import type { Pool } from 'pg';
import { run, runMigrations, Logger, type Runner } from 'graphile-worker';
import type { Transfer } from '../../lib/transfers';
import { committed, delivering, effectParams, effectSql, handled, inTransaction, INSERT_TRANSFERS, servePeer, SUBSCRIBERS, transferColumns, type PeerPipeline, type Subscriber } from './peer';

const CONCURRENCY = Number(process.env["BENCH_GRAPHILE_CONCURRENCY"] ?? 32);

const ADD_JOBS = `
  SELECT graphile_worker.add_jobs(ARRAY(
    SELECT ROW(j.task, j.payload, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec
      FROM unnest($1::text[], $2::json[]) AS j(task, payload)))`;

// Errors only: the runner logs every job otherwise.
const quiet = new Logger(() => (level: string, message: string) => {
  if (level === 'error') console.error(`graphile-worker: ${message}`);
});

class GraphileWorkerPipeline implements PeerPipeline {
  private pool!: Pool;
  private runner?: Runner;

  async setup(pool: Pool): Promise<void> {
    this.pool = pool;
    await runMigrations({ pgPool: pool, logger: quiet });
  }

  async produce(batch: Transfer[]): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(INSERT_TRANSFERS, transferColumns(batch));
      const stored = new Set(rows.map((row) => row.id));
      const fresh = batch.filter((t) => stored.has(t.id));
      const tasks = SUBSCRIBERS.flatMap((task) => fresh.map(() => task));
      const payloads = SUBSCRIBERS.flatMap(() => fresh.map((transfer) => JSON.stringify(transfer)));
      await client.query(ADD_JOBS, [tasks, payloads]);
    });
    committed(batch.map((t) => t.id));
  }

  private task(subscriber: Subscriber) {
    const sql = effectSql(subscriber, 'text');
    return async (payload: unknown): Promise<void> => {
      const transfer = payload as Transfer;
      delivering([transfer.id]);
      await this.pool.query(sql, effectParams(subscriber, [{ id: transfer.id, transfer }]));
      handled(subscriber, [transfer.id]);
    };
  }

  // One runner for the whole session: stopping and restarting one with a local queue left jobs
  // locked (stalled runs), and an idle runner costs one poll a second.
  async startConsumers(): Promise<void> {
    if (this.runner) return;
    this.runner = await run({
      pgPool: this.pool,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      pollInterval: 1000,
      logger: quiet,
      taskList: { ledger: this.task('ledger'), analytics: this.task('analytics') },
      preset: { worker: process.env['BENCH_GRAPHILE_LOCAL_QUEUE'] === '0' ? {} : { localQueue: { size: 500 }, completeJobBatchDelay: 0 } },
    } as never);
  }

  async stopConsumers(): Promise<void> {
    // kept running; see startConsumers
  }

  /** Jobs not yet deleted; completions are batched, so give the last batch a moment to land. */
  async leftovers(): Promise<number> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const { rows } = await this.pool.query('SELECT count(*) AS n FROM graphile_worker.jobs');
      const left = Number(rows[0].n);
      if (left === 0 || Date.now() > deadline) return left;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async reset(): Promise<void> {
    // Completed jobs are deleted by graphile-worker itself.
  }

  async close(): Promise<void> {
    await this.runner?.stop();
    this.runner = undefined;
  }
}

servePeer(new GraphileWorkerPipeline(), { poolSize: 20 });

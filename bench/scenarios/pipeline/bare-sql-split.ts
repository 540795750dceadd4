/**
 * The bare-SQL bound for issue 13's shape: the same work as the ceiling (`bare-sql.ts`), with no
 * transaction across delivery. A claim is one statement in its own transaction that deletes a
 * batch from the outbox and appends it to a log (one row, the batch as JSON, as the platform's
 * event log); each subscriber then applies the batch, handed on in memory, in a transaction of its
 * own: inbox + effect + its cursor in one statement. So three commits per batch where the ceiling
 * has one, and the payloads written twice.
 *
 * It is generous to that shape, which is what makes it a bound: claims run side by side (SKIP
 * LOCKED, no order between them), each subscriber's transaction is one statement with no handler
 * code between BEGIN and COMMIT, and the log is never pruned.
 */
import type { Pool } from 'pg';
import { BATCH } from '../../lib/config';
import type { Transfer } from '../../lib/transfers';
import { CLAIMED, OUTBOX_TABLE, outboxLeft, produceBatch } from './bare-outbox';
import { delivering, effectParams, effectSql, handled, servePeer, SUBSCRIBERS, Wakeup, type PeerPipeline, type Subscriber } from './peer';

const LOOPS = 2;
/** Batches one subscriber applies at once (the platform's `RELAY_CONCURRENCY` in the bench). */
const APPLIERS = 2;

const CLAIM_AND_LOG = `
  WITH claimed AS (${CLAIMED}),
  logged AS (
    INSERT INTO bare.event_log (events)
    SELECT json_agg(json_build_object('id', id, 'payload', payload)) FROM claimed HAVING count(*) > 0
    RETURNING position)
  SELECT c.id, c.payload, (SELECT position FROM logged) AS position FROM claimed c`;

/** One subscriber's side: its batches waiting, its appliers' sleeps, its statement (inbox + effect + cursor). */
interface Applier {
  subscriber: Subscriber;
  queue: Claimed[];
  wakeups: Wakeup[];
  sql: string;
}

interface Claimed {
  position: string;
  events: { id: string; transfer: Transfer }[];
}

class BareSqlSplit implements PeerPipeline {
  private pool!: Pool;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly wakeups = Array.from({ length: LOOPS }, () => new Wakeup());
  private readonly appliers: Applier[] = SUBSCRIBERS.map((subscriber) => ({
    subscriber,
    queue: [],
    wakeups: Array.from({ length: APPLIERS }, () => new Wakeup()),
    sql: effectSql(subscriber, 'uuid', `moved AS (UPDATE bare.log_cursors SET position = greatest(position, $5) WHERE subscriber = '${subscriber}')`),
  }));

  async setup(pool: Pool): Promise<void> {
    this.pool = pool;
    await pool.query(OUTBOX_TABLE);
    await pool.query(`
      CREATE TABLE IF NOT EXISTS bare.event_log (position bigserial PRIMARY KEY, events json NOT NULL);
      ALTER TABLE bare.event_log ALTER COLUMN events SET STORAGE EXTERNAL;
      CREATE TABLE IF NOT EXISTS bare.log_cursors (subscriber text PRIMARY KEY, position bigint NOT NULL);
      INSERT INTO bare.log_cursors SELECT unnest(ARRAY['${SUBSCRIBERS.join("','")}']), 0 ON CONFLICT DO NOTHING`);
  }

  async produce(batch: Transfer[]): Promise<void> {
    await produceBatch(this.pool, batch);
    for (const wakeup of this.wakeups) wakeup.signal();
  }

  async startConsumers(): Promise<void> {
    this.running = true;
    this.loops = [
      ...this.wakeups.map((wakeup) => this.claimLoop(wakeup)),
      ...this.appliers.flatMap((applier) => applier.wakeups.map((wakeup) => this.applyLoop(applier, wakeup))),
    ];
  }

  async stopConsumers(): Promise<void> {
    this.running = false;
    for (const wakeup of [...this.wakeups, ...this.appliers.flatMap((applier) => applier.wakeups)]) wakeup.signal();
    await Promise.all(this.loops);
  }

  private async claimLoop(wakeup: Wakeup): Promise<void> {
    while (this.running) {
      const { rows } = await this.pool.query<{ id: string; payload: Transfer; position: string }>(CLAIM_AND_LOG);
      if (rows.length > 0) {
        const claimed = { position: rows[0].position, events: rows.map((row) => ({ id: row.id, transfer: row.payload })) };
        delivering(claimed.events.map((event) => event.transfer.id));
        for (const applier of this.appliers) {
          applier.queue.push(claimed);
          for (const wakeup of applier.wakeups) wakeup.signal();
        }
      }
      if (rows.length < BATCH && this.running) await wakeup.sleep(1000);
    }
  }

  /** Applies one subscriber's claimed batches as they come, in a transaction (one statement) each. */
  private async applyLoop({ subscriber, queue, sql }: Applier, wakeup: Wakeup): Promise<void> {
    while (this.running || queue.length > 0) {
      const claimed = queue.shift();
      if (!claimed) {
        if (this.running) await wakeup.sleep(1000);
        continue;
      }
      await this.pool.query(sql, [...effectParams(subscriber, claimed.events), claimed.position]);
      handled(
        subscriber,
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

servePeer(new BareSqlSplit(), { idType: 'uuid', poolSize: LOOPS + SUBSCRIBERS.length * APPLIERS + 3 });

/**
 * Messaging benchmark: relay + inbox throughput of @modulith/messaging next to a bare-SQL
 * pipeline doing the same work on the same rows with plain `pg`, and the relay's claim query
 * against a backlog of a million rows. Reports numbers; asserts nothing.
 *
 *   node bench/messaging/run.js
 *
 * Env: BENCH_DATABASE_URL (default: a fresh database on TEST_DATABASE_URL / local PostgreSQL),
 * BENCH_EVENTS (100000), BENCH_BATCH (500), BENCH_CONCURRENCY (2), BENCH_ROUNDS (3),
 * BENCH_BACKLOG (1000000).
 */
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { Pool, type PoolClient } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { uuidv7 } from '@modulith/core';
import { Database, DatabaseModule, defineModule } from '@modulith/database';
import { createTestDatabase } from '@modulith/testing';
import { IntegrationEvent, MessagingModule, OnIntegrationEvent, Outbox, type BatchDeliveryContext } from '@modulith/messaging';
import { MessagingMetrics } from '@modulith/messaging/operator';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 100_000);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 500);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 2);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const BACKLOG = Number(process.env['BENCH_BACKLOG'] ?? 1_000_000);

interface TransferPayload {
  transferId: string;
  from: string;
  to: string;
  amount: string;
  currency: string;
  occurredAt: string;
}

class BenchTransferIngested extends IntegrationEvent<TransferPayload> {
  static readonly type = 'bench.transfer-ingested';
  static readonly version = 1;
}

function payloadsFor(round: number): TransferPayload[] {
  const at = new Date().toISOString();
  return Array.from({ length: EVENTS }, (_, i) => ({
    transferId: `r${round}-t${i}`,
    from: `acc-${i % 1000}`,
    to: `acc-${(i * 7) % 1000}`,
    amount: String(1 + (i % 100_000)),
    currency: i % 2 ? 'EUR' : 'USD',
    occurredAt: at,
  }));
}

// ---------------------------------------------------------------- the platform

class CreateEffects implements MigrationInterface {
  readonly name = 'bench-0001-effects';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE bench_consumer.effects (event_id uuid NOT NULL, amount bigint NOT NULL)');
  }
  async down(): Promise<void> {
    // dropped with the database
  }
}

@Injectable()
class BenchProducer {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
  ) {}

  /** All events in one transaction, appended `BATCH` per statement; returns when committed. */
  async produce(payloads: TransferPayload[]): Promise<void> {
    await this.database.transaction(async (tx) => {
      for (let start = 0; start < payloads.length; start += BATCH) {
        await this.outbox.append(tx, payloads.slice(start, start + BATCH).map((payload) => new BenchTransferIngested(payload)));
      }
    });
  }
}

@Injectable()
class BenchConsumer {
  @OnIntegrationEvent(BenchTransferIngested, { batch: BATCH, name: 'bench.consumer' })
  async apply(events: BenchTransferIngested[], { manager, envelopes }: BatchDeliveryContext): Promise<void> {
    await manager.query('INSERT INTO bench_consumer.effects (event_id, amount) SELECT unnest($1::uuid[]), unnest($2::bigint[])', [
      envelopes.map((envelope) => envelope.id),
      events.map((event) => event.payload.amount),
    ]);
  }
}

@Module({
  imports: [
    MessagingModule.forModule(defineModule({ name: 'bench_producer', schema: 'bench_producer' })),
  ],
  providers: [BenchProducer],
})
class ProducerModule {}

@Module({
  imports: [
    MessagingModule.forModule(defineModule({ name: 'bench_consumer', schema: 'bench_consumer', migrations: [CreateEffects] })),
  ],
  providers: [BenchConsumer],
})
class ConsumerModule {}

async function platformApp(url: string, role: 'producer' | 'consumer'): Promise<INestApplicationContext> {
  @Module({
    imports: [
      DatabaseModule.forRoot({ url, poolSize: 4 + CONCURRENCY * 2, dataDir: '', embeddedPort: 0, migrateOnStart: true }),
      CqrsModule.forRoot(),
      MessagingModule.forRoot({
        relayEnabled: role === 'consumer',
        relayBatchSize: BATCH,
        relayConcurrency: CONCURRENCY,
        relayPollIntervalMs: 1000,
      }),
      role === 'producer' ? ProducerModule : ConsumerModule,
    ],
  })
  class BenchRoot {}
  return NestFactory.createApplicationContext(BenchRoot, { logger: ['error'] });
}

async function runPlatform(url: string, round: number): Promise<{ produceMs: number; drainMs: number }> {
  const consumer = await platformApp(url, 'consumer');
  const producer = await platformApp(url, 'producer');
  try {
    let handled = 0;
    let t0 = 0;
    const drained = new Promise<number>((resolve) => {
      consumer.get(MessagingMetrics).onSample((sample) => {
        if (sample.kind !== 'handled') return;
        handled += sample.events;
        if (handled >= EVENTS) resolve(performance.now());
      });
    });
    const payloads = payloadsFor(round);
    const p0 = performance.now();
    await producer.get(BenchProducer, { strict: false }).produce(payloads);
    t0 = performance.now(); // committed: the relay (woken by NOTIFY) starts draining now
    const t1 = await drained;
    return { produceMs: t0 - p0, drainMs: t1 - t0 };
  } finally {
    await producer.close();
    await consumer.close();
  }
}

// ---------------------------------------------------------------- bare SQL

async function setupBare(pool: Pool): Promise<void> {
  await pool.query(`
    CREATE SCHEMA IF NOT EXISTS bare;
    CREATE TABLE IF NOT EXISTS bare.outbox (
      id uuid PRIMARY KEY, type text NOT NULL, version integer NOT NULL, occurred_at timestamptz NOT NULL,
      source text NOT NULL, correlation_id text NOT NULL, causation_id text, payload json NOT NULL);
    CREATE TABLE IF NOT EXISTS bare.inbox (subscriber text NOT NULL, event_id uuid NOT NULL, handled_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (subscriber, event_id));
    CREATE TABLE IF NOT EXISTS bare.effects (event_id uuid NOT NULL, amount bigint NOT NULL);`);
}

async function runBare(pool: Pool, round: number): Promise<{ produceMs: number; drainMs: number }> {
  const payloads = payloadsFor(round);
  const p0 = performance.now();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const at = new Date().toISOString();
    for (let start = 0; start < payloads.length; start += BATCH) {
      const slice = payloads.slice(start, start + BATCH);
      const ids = slice.map(() => uuidv7());
      await client.query(
        `INSERT INTO bare.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload)
         SELECT e.id, e.type, e.version, $4::timestamptz, $5, $6, $7, e.payload
           FROM unnest($1::uuid[], $2::text[], $3::integer[], $8::json[]) AS e(id, type, version, payload)`,
        [ids, slice.map(() => BenchTransferIngested.type), slice.map(() => 1), at, 'bench_producer', ids[0], null, slice.map((p) => JSON.stringify(p))],
      );
    }
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, () => bareWorker(pool)));
  return { produceMs: t0 - p0, drainMs: performance.now() - t0 };
}

async function bareWorker(pool: Pool): Promise<void> {
  const client: PoolClient = await pool.connect();
  try {
    for (;;) {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; payload: TransferPayload }>(
        `DELETE FROM bare.outbox
          WHERE id = ANY (ARRAY(SELECT id FROM bare.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED))
         RETURNING id, type, version, occurred_at, source, correlation_id, causation_id, payload`,
        [BATCH],
      );
      if (rows.length === 0) {
        await client.query('COMMIT');
        return;
      }
      await client.query(
        `WITH fresh AS (INSERT INTO bare.inbox (subscriber, event_id) SELECT 'bench.consumer', unnest($1::uuid[])
                        ON CONFLICT DO NOTHING RETURNING event_id)
         INSERT INTO bare.effects (event_id, amount)
         SELECT e.id, e.amount FROM unnest($1::uuid[], $2::bigint[]) AS e(id, amount) JOIN fresh ON fresh.event_id = e.id`,
        [rows.map((row) => row.id), rows.map((row) => row.payload.amount)],
      );
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------- claim query vs backlog

// The relay's claim statement (relay/relay.ts), and the IN (...) form it avoids.
const CLAIM = (table: string): string => `
  DELETE FROM ${table}
   WHERE id = ANY (ARRAY(SELECT id FROM ${table} ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED))
  RETURNING id, type, version, occurred_at, source, correlation_id, causation_id, payload`;
const CLAIM_IN = (table: string): string => `
  DELETE FROM ${table}
   WHERE id IN (SELECT id FROM ${table} ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
  RETURNING id, type, version, occurred_at, source, correlation_id, causation_id, payload`;

async function timeClaims(pool: Pool, sql: string, samples: number): Promise<{ p50: number; p95: number; first: number }> {
  const times: number[] = [];
  const client = await pool.connect();
  try {
    for (let i = 0; i < samples; i += 1) {
      await client.query('BEGIN');
      const t0 = performance.now();
      await client.query(sql);
      times.push(performance.now() - t0);
      await client.query('ROLLBACK'); // keep the backlog as it is
    }
  } finally {
    client.release();
  }
  const first = times[0];
  times.sort((a, b) => a - b);
  return { first, p50: times[Math.floor(times.length / 2)], p95: times[Math.floor(times.length * 0.95)] };
}

async function claimBacklog(pool: Pool): Promise<string[][]> {
  const table = 'messaging.outbox';
  await pool.query(`TRUNCATE ${table}`);
  const f0 = performance.now();
  // Time-ordered ids like uuidv7: the millisecond in the first 48 bits, random bits after.
  await pool.query(
    `INSERT INTO ${table} (id, type, version, occurred_at, source, correlation_id, payload)
     SELECT (lpad(to_hex(1800000000000 + i), 12, '0') || '7' || substr(md5(i::text), 1, 3) || '8' || substr(md5(i::text), 4, 15))::uuid,
            'bench.transfer-ingested', 1, now(), 'bench_producer', 'c',
            json_build_object('transferId', 't' || i, 'from', 'a', 'to', 'b', 'amount', (i % 1000)::text, 'currency', 'EUR')
       FROM generate_series(1, $1) AS i`,
    [BACKLOG],
  );
  await pool.query(`VACUUM ANALYZE ${table}`);
  const fillS = (performance.now() - f0) / 1000;
  const rows: string[][] = [];
  const add = (label: string, timing: { p50: number; p95: number; first: number }): void => {
    rows.push([label, timing.first.toFixed(2), timing.p50.toFixed(2), timing.p95.toFixed(2)]);
  };
  add(`${(BACKLOG / 1e6).toFixed(1)}M rows, fresh (= ANY(ARRAY(...)))`, await timeClaims(pool, CLAIM(table), 50));
  add(`${(BACKLOG / 1e6).toFixed(1)}M rows, fresh (IN (...), for contrast)`, await timeClaims(pool, CLAIM_IN(table), 10));
  // The head of a queue table after a big drain: half the rows deleted, not yet vacuumed.
  await pool.query(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} ORDER BY id LIMIT $1)`, [Math.floor(BACKLOG / 2)]);
  add(`after deleting the first ${(BACKLOG / 2e6).toFixed(1)}M, before vacuum`, await timeClaims(pool, CLAIM(table), 50));
  await pool.query(`VACUUM ANALYZE ${table}`);
  add('after vacuum', await timeClaims(pool, CLAIM(table), 50));
  const plan = await pool.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${CLAIM(table)}`);
  await pool.query(`TRUNCATE ${table}`);
  console.log(`\nbacklog of ${BACKLOG} rows filled in ${fillS.toFixed(1)} s (generate_series); claim plan:`);
  for (const line of plan.rows as { 'QUERY PLAN': string }[]) console.log(`  ${line['QUERY PLAN']}`);
  return rows;
}

// ---------------------------------------------------------------- report

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const testDb = process.env['BENCH_DATABASE_URL'] ? undefined : await createTestDatabase('bench');
  const url = process.env['BENCH_DATABASE_URL'] ?? (testDb as { url: string }).url;
  const pool = new Pool({ connectionString: url, max: CONCURRENCY + 2 });
  try {
    await setupBare(pool);
    const bare: { produceMs: number; drainMs: number }[] = [];
    const platform: { produceMs: number; drainMs: number }[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternate so neither side always runs on a warmer server.
      const order = round % 2 === 0 ? (['bare', 'platform'] as const) : (['platform', 'bare'] as const);
      for (const side of order) {
        if (side === 'bare') bare.push(await runBare(pool, round));
        else platform.push(await runPlatform(url, round));
      }
      await pool.query('TRUNCATE bare.inbox, bare.effects, bench_consumer.inbox, bench_consumer.effects');
      await pool.query('VACUUM ANALYZE bare.outbox, messaging.outbox');
      console.log(`round ${round + 1}/${ROUNDS} done`);
    }
    const rate = (ms: number): number => EVENTS / (ms / 1000);
    const bareDrain = rate(median(bare.map((r) => r.drainMs)));
    const platformDrain = rate(median(platform.map((r) => r.drainMs)));
    const bareProduce = rate(median(bare.map((r) => r.produceMs)));
    const platformProduce = rate(median(platform.map((r) => r.produceMs)));
    const fmt = (value: number): string => Math.round(value).toLocaleString('en-US');
    console.log(`\n${EVENTS} events, batches of ${BATCH}, ${CONCURRENCY} claim loop(s), median of ${ROUNDS} rounds (events/s)\n`);
    console.log(
      table(
        ['stage', 'bare SQL (pg)', '@modulith/messaging', 'ratio'],
        [
          ['relay + inbox + effect (drain a backlog)', fmt(bareDrain), fmt(platformDrain), `${(platformDrain / bareDrain).toFixed(2)}x`],
          [`produce (append ${BATCH}/statement, one transaction)`, fmt(bareProduce), fmt(platformProduce), `${(platformProduce / bareProduce).toFixed(2)}x`],
        ],
      ),
    );
    if (BACKLOG > 0) {
      const rows = await claimBacklog(pool);
      console.log(`\nclaim of ${BATCH} rows (DELETE ... FOR UPDATE SKIP LOCKED ... RETURNING, rolled back), ms\n`);
      console.log(table(['backlog', 'first', 'p50', 'p95'], rows));
    }
  } finally {
    await pool.end();
    await testDb?.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * Redis Streams benchmark: events/s and commit-to-handler latency of @modulith/messaging over
 * Redis Streams, next to the in-process transport and to a hand-written XADD/XREADGROUP loop in
 * the same process, as ratios. Reports numbers; asserts nothing.
 *
 *   node bench/redis/run.js
 *
 * Env: BENCH_DATABASE_URL (default: a fresh database on TEST_DATABASE_URL / local PostgreSQL),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379; keys under a fresh prefix, deleted afterwards),
 * BENCH_EVENTS (100000), BENCH_BATCH (500), BENCH_ROUNDS (3), BENCH_RATE (2000 events/s),
 * BENCH_LATENCY_SECONDS (5).
 */
import { randomBytes } from 'node:crypto';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { uuidv7 } from '@modulith/core';
import { Database, DatabaseModule, defineModule } from '@modulith/database';
import { createTestDatabase } from '@modulith/testing';
import { IntegrationEvent, MessagingModule, OnIntegrationEvent, Outbox, type BatchDeliveryContext, type MessagingConfig } from '@modulith/messaging';
import { deleteRedisKeys } from '@modulith/messaging/testing';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 100_000);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 500);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const RATE = Number(process.env['BENCH_RATE'] ?? 2000);
const LATENCY_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 5);
const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PREFIX = `modulith-bench:${randomBytes(4).toString('hex')}`;
const TICK_MS = 10;

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

function payloads(tag: string, count: number): TransferPayload[] {
  const at = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => ({
    transferId: `${tag}-t${i}`,
    from: `acc-${i % 1000}`,
    to: `acc-${(i * 7) % 1000}`,
    amount: String(1 + (i % 100_000)),
    currency: i % 2 ? 'EUR' : 'USD',
    occurredAt: at,
  }));
}

/** What every side records: events handled, and commit-to-handler delays (ms) when asked. */
class Probe {
  handled = 0;
  readonly committedAt = new Map<string, number>();
  readonly delays: number[] = [];
  private target = Infinity;
  private done: () => void = () => undefined;

  expect(count: number): Promise<void> {
    this.target = this.handled + count;
    return new Promise((resolve) => {
      this.done = resolve;
      if (this.handled >= this.target) resolve();
    });
  }

  record(ids: readonly string[]): void {
    const now = performance.now();
    for (const id of ids) {
      const committed = this.committedAt.get(id);
      if (committed !== undefined) {
        this.delays.push(now - committed);
        this.committedAt.delete(id);
      }
    }
    this.handled += ids.length;
    if (this.handled >= this.target) this.done();
  }

  reset(): void {
    this.handled = 0;
    this.committedAt.clear();
    this.delays.length = 0;
    this.target = Infinity;
  }
}

const probe = new Probe();

// ---------------------------------------------------------------- the platform, either transport

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

  /** Appends in one transaction, `BATCH` per statement; stamps each event's commit time. */
  async produce(batch: TransferPayload[]): Promise<void> {
    const ids: string[] = [];
    await this.database.transaction(async (tx) => {
      for (let start = 0; start < batch.length; start += BATCH) {
        const envelopes = await this.outbox.append(tx, batch.slice(start, start + BATCH).map((payload) => new BenchTransferIngested(payload)));
        ids.push(...envelopes.map((envelope) => envelope.id));
      }
    });
    const now = performance.now();
    for (const id of ids) probe.committedAt.set(id, now);
  }
}

@Injectable()
class BenchConsumer {
  @OnIntegrationEvent(BenchTransferIngested, { batch: BATCH, name: 'bench.consumer' })
  async apply(events: BenchTransferIngested[], { manager, envelopes }: BatchDeliveryContext): Promise<void> {
    probe.record(envelopes.map((envelope) => envelope.id));
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

type Side = 'in-process' | 'redis';
type Role = 'producer' | 'consumer' | 'both';

/**
 * In process, producer and subscriber share one app (the relay must run where the subscriber is:
 * the monolith). Over Redis they are two apps, as two processes would be: the relay runs with the
 * producer, the subscriber in the other. Each app has its own pool, bus and transport.
 */
async function platformApp(url: string, side: Side, role: Role, round: number): Promise<INestApplicationContext> {
  const messaging: Partial<MessagingConfig> = {
    relayEnabled: role !== 'consumer',
    relayBatchSize: BATCH,
    relayConcurrency: 1,
    relayPollIntervalMs: 1000,
    relayNotifyDebounceMs: 5,
    eventTransport: side === 'redis' ? 'redis' : 'inprocess',
    redisUrl: REDIS_URL,
    redisKeyPrefix: `${PREFIX}:r${round}`,
    redisStreamMaxLen: 0,
  };
  const modules = { producer: [ProducerModule], consumer: [ConsumerModule], both: [ProducerModule, ConsumerModule] }[role];
  @Module({
    imports: [
      DatabaseModule.forRoot({ url, poolSize: 6, dataDir: '', embeddedPort: 0, migrateOnStart: true }),
      CqrsModule.forRoot(),
      MessagingModule.forRoot(messaging),
      ...modules,
    ],
  })
  class BenchRoot {}
  return NestFactory.createApplicationContext(BenchRoot, { logger: ['error'] });
}

interface Measurement {
  drainMs: number;
  p50: number;
  p99: number;
}

async function runPlatform(url: string, side: Side, round: number): Promise<Measurement> {
  const consumer = side === 'redis' ? await platformApp(url, side, 'consumer', round) : undefined;
  const producer = await platformApp(url, side, side === 'redis' ? 'producer' : 'both', round);
  try {
    const produce = producer.get(BenchProducer, { strict: false });
    // Throughput: one commit of the whole backlog, then relay + transport + handler until the last batch.
    probe.reset();
    const drained = probe.expect(EVENTS);
    await produce.produce(payloads(`d${round}`, EVENTS));
    const t0 = performance.now();
    await drained;
    const drainMs = performance.now() - t0;
    // Latency: small commits at a steady rate; commit → handler call, per event.
    probe.reset();
    const latency = await steadyLoad((batch) => produce.produce(batch), `l${round}`);
    return { drainMs, ...latency };
  } finally {
    await producer.close();
    await consumer?.close();
  }
}

/** `RATE` events/s for `LATENCY_SECONDS`, a commit every `TICK_MS`; then waits for the stragglers. */
async function steadyLoad(send: (batch: TransferPayload[]) => Promise<void>, tag: string): Promise<{ p50: number; p99: number }> {
  const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
  const ticks = Math.round((LATENCY_SECONDS * 1000) / TICK_MS);
  const all = probe.expect(perTick * ticks);
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let tick = 0; tick < ticks; tick += 1) {
    sends.push(send(payloads(`${tag}-${tick}`, perTick)));
    const next = started + (tick + 1) * TICK_MS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
  await Promise.all(sends);
  await all;
  return percentiles(probe.delays);
}

// ---------------------------------------------------------------- a raw XADD / XREADGROUP loop

async function setupRaw(pool: Pool): Promise<void> {
  await pool.query(`
    CREATE SCHEMA IF NOT EXISTS raw;
    CREATE TABLE IF NOT EXISTS raw.inbox (subscriber text NOT NULL, event_id uuid NOT NULL, handled_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (subscriber, event_id));
    CREATE TABLE IF NOT EXISTS raw.effects (event_id uuid NOT NULL, amount bigint NOT NULL);`);
}

/**
 * The same events as envelopes in one stream: one connection appends them `BATCH` per MULTI, one
 * consumer reads `BATCH` at a time with XREADGROUP, writes inbox + effect in one transaction
 * (one statement, as the bare-SQL side of bench/messaging does) and XACKs.
 */
async function runRaw(pool: Pool, round: number): Promise<Measurement> {
  const stream = `${PREFIX}:raw:${round}`;
  const appender = new Redis(REDIS_URL);
  const reader = new Redis(REDIS_URL);
  await reader.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  let running = true;
  const consuming = (async () => {
    const client = await pool.connect();
    try {
      while (running) {
        const reply = (await reader.xreadgroup('GROUP', 'g', 'c', 'COUNT', BATCH, 'BLOCK', 100, 'STREAMS', stream, '>')) as [string, [string, string[]][]][] | null;
        if (!reply) continue;
        const entries = reply[0][1];
        const envelopes = entries.map(([, fields]) => JSON.parse(fields[1]) as { id: string; payload: TransferPayload });
        probe.record(envelopes.map((envelope) => envelope.id));
        await client.query('BEGIN');
        await client.query(
          `WITH fresh AS (INSERT INTO raw.inbox (subscriber, event_id) SELECT 'raw', unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id)
           INSERT INTO raw.effects (event_id, amount)
           SELECT e.id, e.amount FROM unnest($1::uuid[], $2::bigint[]) AS e(id, amount) JOIN fresh ON fresh.event_id = e.id`,
          [envelopes.map((envelope) => envelope.id), envelopes.map((envelope) => envelope.payload.amount)],
        );
        await client.query('COMMIT');
        await reader.xack(stream, 'g', ...entries.map(([id]) => id));
      }
    } finally {
      client.release();
    }
  })();
  const append = async (batch: TransferPayload[]): Promise<void> => {
    const at = new Date().toISOString();
    for (let start = 0; start < batch.length; start += BATCH) {
      const multi = appender.multi();
      const ids: string[] = [];
      for (const payload of batch.slice(start, start + BATCH)) {
        const id = uuidv7();
        ids.push(id);
        const envelope = { id, type: BenchTransferIngested.type, version: 1, occurredAt: at, source: 'bench_producer', correlationId: id, causationId: null, payload };
        multi.xadd(stream, '*', 'envelope', JSON.stringify(envelope));
      }
      // Stamped before the round trip: the consumer may see the entries before EXEC's reply arrives.
      const now = performance.now();
      for (const id of ids) probe.committedAt.set(id, now);
      await multi.exec();
    }
  };
  try {
    probe.reset();
    const drained = probe.expect(EVENTS);
    const t0 = performance.now();
    await append(payloads(`raw-d${round}`, EVENTS));
    await drained;
    const drainMs = performance.now() - t0;
    probe.reset();
    const latency = await steadyLoad(append, `raw-l${round}`);
    return { drainMs, ...latency };
  } finally {
    running = false;
    await consuming;
    appender.disconnect();
    reader.disconnect();
  }
}

// ---------------------------------------------------------------- report

function percentiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

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
  const testDb = process.env['BENCH_DATABASE_URL'] ? undefined : await createTestDatabase('bench_redis');
  const url = process.env['BENCH_DATABASE_URL'] ?? (testDb as { url: string }).url;
  const pool = new Pool({ connectionString: url, max: 3 });
  const results: Record<'raw' | Side, Measurement[]> = { raw: [], 'in-process': [], redis: [] };
  try {
    await setupRaw(pool);
    for (let round = 0; round < ROUNDS; round += 1) {
      // Rotate who goes first, so no side always meets a warmer server.
      const order = (['raw', 'in-process', 'redis'] as const).map((_, i, sides) => sides[(i + round) % sides.length]);
      for (const side of order) results[side].push(side === 'raw' ? await runRaw(pool, round) : await runPlatform(url, side, round));
      await pool.query('TRUNCATE raw.inbox, raw.effects, bench_consumer.inbox, bench_consumer.effects');
      await pool.query('VACUUM ANALYZE messaging.outbox');
      console.log(`round ${round + 1}/${ROUNDS} done`);
    }
  } finally {
    await pool.end();
    await deleteRedisKeys(REDIS_URL, PREFIX);
    await testDb?.drop();
  }
  const rate = (side: 'raw' | Side): number => EVENTS / (median(results[side].map((m) => m.drainMs)) / 1000);
  const p = (side: 'raw' | Side, key: 'p50' | 'p99'): number => median(results[side].map((m) => m[key]));
  const fmt = (value: number): string => Math.round(value).toLocaleString('en-US');
  const ms = (value: number): string => value.toFixed(1);
  const ratio = (value: number, base: number): string => `${(value / base).toFixed(2)}x`;
  console.log(
    `\n${EVENTS} events drained (batches of ${BATCH}); latency at ${RATE} events/s for ${LATENCY_SECONDS} s ` +
      `(a commit every ${TICK_MS} ms); median of ${ROUNDS} rounds\n`,
  );
  console.log(
    table(
      ['side', 'events/s', 'p50 ms', 'p99 ms'],
      (['raw', 'in-process', 'redis'] as const).map((side) => [
        { raw: 'raw XADD/XREADGROUP loop (+ same SQL)', 'in-process': '@modulith/messaging, in-process', redis: '@modulith/messaging, Redis Streams' }[side],
        fmt(rate(side)),
        ms(p(side, 'p50')),
        ms(p(side, 'p99')),
      ]),
    ),
  );
  console.log('\nRedis Streams transport as a ratio of the others (events/s: higher is better; latency: lower is better)\n');
  console.log(
    table(
      ['compared with', 'events/s', 'p50', 'p99'],
      (['raw', 'in-process'] as const).map((side) => [
        side === 'raw' ? 'raw XADD/XREADGROUP loop' : 'in-process transport',
        ratio(rate('redis'), rate(side)),
        ratio(p('redis', 'p50'), p(side, 'p50')),
        ratio(p('redis', 'p99'), p(side, 'p99')),
      ]),
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

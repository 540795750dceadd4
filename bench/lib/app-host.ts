/**
 * Hosts the Modulith app under test in its own process, driven by the runner over IPC. It is the
 * composition root of apps/api (AppModule, the same HTTP stack as bootstrap.ts) plus two probes
 * that change nothing on the path they watch:
 *  - commit: CommandBus.execute is wrapped; when an IngestTransfersCommand resolves, its
 *    transaction has committed, and its transfers' commit time is taken;
 *  - handled: before start-up, each durable subscription handed to the transport gets its
 *    `deliver` wrapped; when it resolves, that subscriber's transaction has committed.
 * Both go through public interfaces (CommandBus, the Transport contract), so they work for the
 * in-process and the Redis transport alike.
 *
 * Variants: `reference` (ingestion, ledger, analytics: the reference app), `same-effect`
 * (ingestion plus two bench subscribers doing the peers' effect), `same-effect-keyed` (the same,
 * with `TransferIngested` keyed by its `to` account: 1,000 keys, so every event goes through the
 * per-key gating), `ingest-only` (ingestion, relay off).
 */
import { Injectable, Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CommandBus } from '@nestjs/cqrs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { Database, defineModule } from '@modulith/database';
import { configureHttpApp, createHttpAdapter } from '@modulith/http';
import { IngestTransfersCommand, TransferIngested, type TransferIngestedPayload } from '@modulith/ingestion/contracts';
import { MessagingModule, OnIntegrationEvent, type BatchDeliveryContext } from '@modulith/messaging';
import { isDrained, MessagingMetrics } from '@modulith/messaging/operator';
import { TRANSPORT, type Transport, type TransportSubscription } from '@modulith/messaging/transport';
import { appConfigFromEnv } from '../../apps/api/src/app.config';
import { AppModule } from '../../apps/api/src/app.module';
import { InvariantsService } from '../../apps/api/src/invariants/invariants.service';
import { nowMs, serve } from './ipc';
import { RunProbe } from './probe';

export type AppVariant = 'reference' | 'same-effect' | 'same-effect-keyed' | 'ingest-only';

// ------------------------------------------------------------ the keyed variant's event

/**
 * `same-effect-keyed`: the bench's `TransferIngested` is ordered by the transfer's `to` account
 * (acc-0 .. acc-999: 1,000 distinct keys). The ingestion module builds `TransferIngested` itself,
 * so the bench declares the static on that class, in the keyed app's process only (each
 * contender is its own process), exactly as `static orderingKey(payload)` in the class would.
 */
export const BENCH_KEYS = 1000;
function orderTransfersByAccount(): void {
  const orderingKey = function orderingKey(payload: TransferIngestedPayload): string {
    return payload.to;
  };
  Object.defineProperty(TransferIngested, 'orderingKey', { value: orderingKey, configurable: true, writable: true });
}

/**
 * `BENCH_EVENT_SCHEMAS=off`: `TransferIngested` without its schema, in this process only, so
 * neither append nor delivery validates it: the run beside which validation's cost is measured.
 */
function dropEventSchemas(): void {
  Object.defineProperty(TransferIngested, 'schema', { value: undefined, configurable: true, writable: true });
}

// ------------------------------------------------------------ the peers' effect, as Modulith subscribers

function effectModule(schema: 'fx_ledger' | 'fx_analytics', key: 'to' | 'currency', keyed: boolean): Type {
  class CreateEffects implements MigrationInterface {
    readonly name = `bench-0001-${schema}-effects`;
    async up(runner: QueryRunner): Promise<void> {
      // Keyed: each row also records its event's key and keySeq, and `applied` numbers the rows
      // in the order they were written (one key's rows are written by one committed transaction
      // after the other), so `verify` can check each key's events were applied 1, 2, 3… in order.
      const order = keyed ? ', ordering_key text NOT NULL, key_seq bigint NOT NULL, applied bigint GENERATED ALWAYS AS IDENTITY' : '';
      await runner.query(`CREATE TABLE ${schema}.effects (transfer_id text PRIMARY KEY, k text NOT NULL, amount bigint NOT NULL${order})`);
    }
    async down(): Promise<void> {
      // dropped with the database
    }
  }

  @Injectable()
  class ApplyEffect {
    // The same statement the peers run after their inbox insert: one row upsert per event.
    @OnIntegrationEvent(TransferIngested, { batch: 500, name: `${schema}.apply` })
    async apply(events: TransferIngested[], { manager, envelopes }: BatchDeliveryContext): Promise<void> {
      if (keyed) {
        // The same upsert plus the envelope's key and keySeq (rows in the order handed over).
        await manager.query(
          `INSERT INTO ${schema}.effects AS t (transfer_id, k, amount, ordering_key, key_seq)
           SELECT transfer_id, k, amount, ordering_key, key_seq
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[]) WITH ORDINALITY AS e(transfer_id, k, amount, ordering_key, key_seq, i)
           ORDER BY i
           ON CONFLICT (transfer_id) DO UPDATE SET k = excluded.k, amount = excluded.amount`,
          [
            events.map((e) => e.payload.transferId),
            events.map((e) => e.payload[key]),
            events.map((e) => e.payload.amount),
            envelopes.map((e) => e.orderingKey ?? null),
            envelopes.map((e) => e.keySeq ?? null),
          ],
        );
        return;
      }
      await manager.query(
        `INSERT INTO ${schema}.effects AS t (transfer_id, k, amount)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
         ON CONFLICT (transfer_id) DO UPDATE SET k = excluded.k, amount = excluded.amount`,
        [events.map((e) => e.payload.transferId), events.map((e) => e.payload[key]), events.map((e) => e.payload.amount)],
      );
    }
  }

  @Module({
    imports: [
      MessagingModule.forModule(defineModule({ name: schema, schema, migrations: [CreateEffects] })),
    ],
    providers: [ApplyEffect],
  })
  class EffectModule {}
  return EffectModule;
}

function rootModule(variant: AppVariant): DynamicModule {
  const base = appConfigFromEnv();
  const modules = variant === 'reference' ? ['ingestion', 'ledger', 'analytics'] : ['ingestion'];
  const sameEffect = variant === 'same-effect' || variant === 'same-effect-keyed';
  // The same-effect variants are their own deployment: ingestion plus the two effect modules below, so
  // the catalog's ledger and analytics are not declared (its in-process relay must not wait for them).
  const messaging = variant === 'ingest-only' ? { relayEnabled: false } : sameEffect ? { declaredDurableModules: [] } : {};
  const app = AppModule.register({ ...base, modules }, messaging);
  const keyed = variant === 'same-effect-keyed';
  @Module({})
  class BenchAppRoot {}
  return {
    module: BenchAppRoot,
    imports: [app, ...(sameEffect ? [effectModule('fx_ledger', 'to', keyed), effectModule('fx_analytics', 'currency', keyed)] : [])],
  };
}

// ------------------------------------------------------------ the host

const WATCHED_EVENT = TransferIngested.type;

let app: INestApplication | undefined;
let variant: AppVariant;
let transport: Transport;
const watched: string[] = [];
let probe: RunProbe | undefined;

/**
 * Wraps each durable subscription of TransferIngested so its completed deliveries reach the
 * probe, and the transport's `publish` so the moment the relay handed a batch over does too
 * (in-process: after the claim committed it to the event log; Redis: inside the claim).
 */
function watchDeliveries(target: Transport): void {
  const publish = target.publish.bind(target);
  target.publish = (envelopes: Parameters<Transport['publish']>[0]): Promise<void> => {
    if (probe) {
      const ids = envelopes.filter((envelope) => envelope.type === WATCHED_EVENT).map((envelope) => (envelope.payload as { transferId: string }).transferId);
      if (ids.length > 0) probe.relayed(ids);
    }
    return publish(envelopes);
  };
  const subscribe = target.subscribe.bind(target);
  target.subscribe = (subscription: TransportSubscription): void => {
    if (subscription.mode !== 'durable' || !subscription.eventTypes.includes(WATCHED_EVENT)) return subscribe(subscription);
    watched.push(subscription.subscriber);
    const deliver = subscription.deliver.bind(subscription);
    const wrapped: TransportSubscription = Object.create(subscription);
    Object.defineProperty(wrapped, 'deliver', {
      // Everything the transport passes goes on (the envelopes and its DeliveryHint).
      value: async (...args: Parameters<TransportSubscription['deliver']>): Promise<void> => {
        const [envelopes] = args;
        const ids = envelopes.map((envelope) => (envelope.payload as { transferId: string }).transferId);
        probe?.delivering(ids);
        const started = nowMs();
        await deliver(...args);
        internals?.deliveries.push([envelopes.length, nowMs() - started]);
        probe?.handled(subscription.subscriber, ids);
      },
    });
    subscribe(wrapped);
  };
}

function watchCommits(bus: CommandBus): void {
  const execute = bus.execute.bind(bus) as (command: unknown) => Promise<unknown>;
  (bus as { execute: unknown }).execute = async (command: unknown): Promise<unknown> => {
    const result = await execute(command);
    if (command instanceof IngestTransfersCommand) probe?.committed(command.transfers.map((transfer) => transfer.id));
    return result;
  };
}

async function start({ variant: chosen }: { variant: AppVariant }): Promise<{ port: number; transport: string; subscribers: string[] }> {
  variant = chosen;
  if (variant === 'same-effect-keyed') orderTransfersByAccount();
  if (process.env['BENCH_EVENT_SCHEMAS'] === 'off') dropEventSchemas();
  const config = appConfigFromEnv();
  const created = await NestFactory.create<NestFastifyApplication>(rootModule(variant), createHttpAdapter(config.http), {
    logger: ['error', 'warn'],
    abortOnError: false,
    bodyParser: false,
  });
  configureHttpApp(created, { adminToken: config.adminToken });
  transport = created.get<Transport>(TRANSPORT as never, { strict: false });
  watchDeliveries(transport);
  watchCommits(created.get(CommandBus, { strict: false }));
  await created.init();
  await created.listen(0, '127.0.0.1');
  app = created;
  const address = created.getHttpServer().address() as { port: number };
  return { port: address.port, transport: transport.name, subscribers: watched };
}

function database(): Database {
  if (!app) throw new Error('not started');
  return app.get(Database, { strict: false });
}

async function count(sql: string): Promise<number> {
  const [row] = await database().dataSource.query(sql);
  return Number(row.n);
}

/** Forgets the previous run and watches transfers `${prefix}-0 .. n-1`. */
function arm({ prefix, n }: { prefix: string; n: number }): { subscribers: string[] } {
  probe = new RunProbe(prefix, n, watched);
  internals = { relayBatches: [], deliveries: [], handlerCalls: [] };
  stopSampling?.();
  stopSampling = app!.get(MessagingMetrics, { strict: false }).onSample((sample) => {
    if (sample.kind === 'relay-batch') internals?.relayBatches.push([sample.events, sample.durationMs]);
    else if (sample.kind === 'handled') internals?.handlerCalls.push([sample.events, sample.durationMs]);
  });
  loopDelay?.disable();
  loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  return { subscribers: watched };
}

/**
 * What the platform did during the armed run, as [events, milliseconds] pairs: relay claims (the
 * whole claim transaction), deliveries to the watched subscribers (the whole `deliver`: key plan,
 * inbox, handler, key progress, commit) and handler calls (the handler alone).
 */
interface Internals {
  relayBatches: [number, number][];
  deliveries: [number, number][];
  handlerCalls: [number, number][];
}
let internals: Internals | undefined;
let stopSampling: (() => void) | undefined;

function summarise(pairs: readonly [number, number][]): { count: number; eventsPerCall: number; p50Ms: number; p99Ms: number; totalMs: number } {
  const ms = pairs.map(([, duration]) => duration).sort((a, b) => a - b);
  const at = (q: number): number => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] : Number.NaN);
  const events = pairs.reduce((sum, [count]) => sum + count, 0);
  return { count: pairs.length, eventsPerCall: pairs.length ? events / pairs.length : 0, p50Ms: at(0.5), p99Ms: at(0.99), totalMs: ms.reduce((sum, value) => sum + value, 0) };
}

// The app's event-loop delay during the armed run: HTTP ingest, relay and every subscriber share
// one event loop, so time waiting for it is part of every latency.
let loopDelay: ReturnType<typeof monitorEventLoopDelay> | undefined;
const LOOP_RESOLUTION_MS = 10;

/**
 * Waits until every armed transfer is handled by every subscriber, then until nothing is left in
 * the outbox, the event log (every durable subscriber's cursor past its last row), the retries
 * (keyed events held behind an earlier one included) or the broker: the ledger's BalanceChanged
 * events and their `ledger.statement` subscriber included. Returns when that was.
 */
async function awaitDrain({ timeoutMs }: { timeoutMs: number }): Promise<{ drainedAt: number; firstCommitAt: number; handled: number }> {
  if (!probe) throw new Error('not armed');
  const deadline = Date.now() + timeoutMs;
  await probe.whenComplete(timeoutMs);
  let drainedAt = probe.lastHandledAt;
  const metrics = app!.get(MessagingMetrics, { strict: false });
  for (let first = true; ; first = false) {
    const backlog = await metrics.backlog();
    const inBroker = transport.backlog ? await transport.backlog() : 0;
    if (isDrained({ ...backlog, transportPending: inBroker })) {
      if (!first) drainedAt = nowMs();
      break;
    }
    if (Date.now() > deadline) throw new Error(`not drained after ${timeoutMs} ms: ${JSON.stringify(backlog)}, broker ${inBroker}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { drainedAt, firstCommitAt: probe.firstCommitAt, handled: probe.handledCount };
}

function latencies(): ReturnType<RunProbe['latencies']> & { eventLoopDelay?: { p50: number; p99: number; max: number }; internals?: Record<string, ReturnType<typeof summarise>> } {
  if (!probe) throw new Error('not armed');
  // The histogram records whole timer intervals: the 10 ms resolution is taken off (an idle loop reads ~0).
  const late = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  const eventLoopDelay = loopDelay ? { p50: late(loopDelay.percentile(50)), p99: late(loopDelay.percentile(99)), max: late(loopDelay.max) } : undefined;
  const seen = internals
    ? { relayClaims: summarise(internals.relayBatches), deliveries: summarise(internals.deliveries), handlerCalls: summarise(internals.handlerCalls) }
    : undefined;
  return { ...probe.latencies(), eventLoopDelay, internals: seen };
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Exactly-once, in SQL: every subscriber's inbox and effect hold exactly `n` rows; nothing parked. */
async function verify({ n }: { n: number }): Promise<Check[]> {
  const checks: Check[] = [];
  const expect = async (name: string, sql: string, expected: number): Promise<void> => {
    const actual = await count(sql);
    checks.push({ name, ok: actual === expected, detail: `${actual} (expected ${expected})` });
  };
  await expect('transfers stored', 'SELECT count(*) AS n FROM ingestion.transfers', n);
  await expect('retries and dead letters', 'SELECT (SELECT count(*) FROM messaging.retries) + (SELECT count(*) FROM messaging.dead_letters) AS n', 0);
  if (variant === 'reference') {
    // The ledger's inbox holds two subscribers: TransferIngested (one per transfer) and its own BalanceChanged (two).
    await expect('ledger inbox (ledger.apply-transfers)', `SELECT count(*) AS n FROM ledger.inbox WHERE subscriber = 'ledger.apply-transfers'`, n);
    await expect('ledger inbox (ledger.statement, 2 per transfer)', `SELECT count(*) AS n FROM ledger.inbox WHERE subscriber = 'ledger.statement'`, 2 * n);
    await expect('analytics inbox', 'SELECT count(*) AS n FROM analytics.inbox', n);
    await expect('statement lines (2 per transfer)', 'SELECT count(*) AS n FROM ledger.statement_lines', 2 * n);
    await expect('ledger entries (2 per transfer)', 'SELECT count(*) AS n FROM ledger.entries', 2 * n);
    await expect('analytics count', 'SELECT coalesce(sum(count), 0) AS n FROM analytics.hourly', n);
    const report = await app!.get(InvariantsService, { strict: false }).check();
    checks.push({ name: 'invariants (verify)', ok: report.ok, detail: report.results.filter((r) => !r.ok).map((r) => r.name).join(', ') || 'all hold' });
  } else if (variant === 'same-effect' || variant === 'same-effect-keyed') {
    for (const schema of ['fx_ledger', 'fx_analytics']) {
      await expect(`${schema} inbox`, `SELECT count(*) AS n FROM ${schema}.inbox`, n);
      await expect(`${schema} effects`, `SELECT count(*) AS n FROM ${schema}.effects`, n);
      if (variant === 'same-effect-keyed') {
        // Per key, in the order the rows were written: keySeq goes up by exactly one each time (no
        // gap, no repeat, nothing out of order), and ends at the last number the key was given.
        await expect(
          `${schema} per-key order (each key's keySeq +1 at a time, in applied order)`,
          `SELECT count(*) AS n FROM (
             SELECT key_seq, lag(key_seq) OVER (PARTITION BY ordering_key ORDER BY applied) AS previous FROM ${schema}.effects) x
            WHERE previous IS NOT NULL AND key_seq <> previous + 1`,
          0,
        );
        await expect(
          `${schema} keys whose applied events do not end at the key's last number`,
          `SELECT count(*) AS n FROM (SELECT ordering_key, min(key_seq) AS first, count(*) AS events FROM ${schema}.effects GROUP BY ordering_key) r
             JOIN messaging.ordering_keys k ON k.ordering_key = r.ordering_key AND k.event_type = '${WATCHED_EVENT}'
            WHERE r.first + r.events - 1 <> k.seq`,
          0,
        );
      }
    }
    if (variant === 'same-effect-keyed') {
      const keys = await count(`SELECT count(DISTINCT ordering_key) AS n FROM fx_ledger.effects`);
      const held = heldSoFar() - heldBefore;
      heldBefore += held;
      checks.push({ name: 'keys used', ok: keys > 0 && keys <= BENCH_KEYS, detail: `${keys} distinct keys; ${held} event(s) held behind an earlier one of their key this run` });
    }
  }
  return checks;
}

/** Keyed events parked so far to wait for an earlier event of their key (all subscribers). */
function heldSoFar(): number {
  return app!.get(MessagingMetrics, { strict: false }).counters().subscribers.reduce((sum, counters) => sum + (counters.held ?? 0), 0);
}
let heldBefore = 0;

/**
 * Empties what a run wrote, so every run starts from the same tables. Key numbering
 * (`messaging.ordering_keys`) and each subscriber's key progress are kept: they go on across runs
 * as they would in production (emptying one without the other would make new events look seen).
 */
async function reset(): Promise<void> {
  const fx = 'ingestion.transfers, fx_ledger.effects, fx_ledger.inbox, fx_analytics.effects, fx_analytics.inbox';
  const tables = {
    reference: 'ingestion.transfers, ledger.balances, ledger.entries, ledger.statement_lines, ledger.inbox, analytics.hourly, analytics.inbox',
    'same-effect': fx,
    'same-effect-keyed': fx,
    'ingest-only': 'ingestion.transfers',
  }[variant];
  await database().dataSource.query(`TRUNCATE ${tables}, messaging.outbox`);
  probe = undefined;
}

async function close(): Promise<void> {
  await app?.close();
  app = undefined;
}

/** The platform's own counters (relay batches, handler calls and durations), for diagnosis. */
function counters(): unknown {
  return app!.get(MessagingMetrics, { strict: false }).counters();
}

// CPU profile of a window (e.g. one measured run), through the inspector: `profileStart`, then
// `profileStop({ file })` writes a .cpuprofile for bench/lib/cpu-profile-top.mjs.
let session: import('node:inspector').Session | undefined;
function post(method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
}
async function profileStart(): Promise<void> {
  const inspector = await import('node:inspector');
  session = new inspector.Session();
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
}
async function profileStop({ file }: { file: string }): Promise<void> {
  const { profile } = (await post('Profiler.stop')) as { profile: unknown };
  session?.disconnect();
  session = undefined;
  const fs = await import('node:fs');
  const path = await import('node:path');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(profile));
}

/** This process's CPU time so far (user + system), µs: the runner takes the difference over a run. */
function cpu(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

serve({ start, arm, awaitDrain, latencies, verify, reset, counters, cpu, profileStart, profileStop, close } as never);

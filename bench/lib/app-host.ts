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
 * (ingestion plus two bench subscribers doing the peers' effect), `ingest-only` (ingestion, relay off).
 */
import { Injectable, Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { Database, DatabaseModule, defineModuleSchema } from '@modulith/database';
import { configureHttpApp, createHttpAdapter } from '@modulith/http';
import { IngestTransfersCommand, TransferIngested } from '@modulith/ingestion/contracts';
import {
  MessagingMetrics,
  MessagingModule,
  OnIntegrationEvent,
  TRANSPORT,
  inboxMigration,
  type BatchDeliveryContext,
  type Transport,
  type TransportSubscription,
} from '@modulith/messaging';
import { appConfigFromEnv } from '../../apps/api/src/app.config';
import { AppModule } from '../../apps/api/src/app.module';
import { InvariantsService } from '../../apps/api/src/invariants/invariants.service';
import { nowMs, serve } from './ipc';
import { RunProbe } from './probe';

export type AppVariant = 'reference' | 'same-effect' | 'ingest-only';

// ------------------------------------------------------------ the peers' effect, as Modulith subscribers

function effectModule(schema: 'fx_ledger' | 'fx_analytics', key: 'to' | 'currency'): Type {
  class CreateEffects implements MigrationInterface {
    readonly name = `bench-0001-${schema}-effects`;
    async up(runner: QueryRunner): Promise<void> {
      await runner.query(`CREATE TABLE ${schema}.effects (transfer_id text PRIMARY KEY, k text NOT NULL, amount bigint NOT NULL)`);
    }
    async down(): Promise<void> {
      // dropped with the database
    }
  }

  @Injectable()
  class ApplyEffect {
    // The same statement the peers run after their inbox insert: one row upsert per event.
    @OnIntegrationEvent(TransferIngested, { batch: 500, name: `${schema}.apply` })
    async apply(events: TransferIngested[], { manager }: BatchDeliveryContext): Promise<void> {
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
      DatabaseModule.forModule(defineModuleSchema({ module: schema, schema, entities: [], migrations: [inboxMigration(schema), CreateEffects] })),
      MessagingModule.forModule({ module: schema, schema }),
    ],
    providers: [ApplyEffect],
  })
  class EffectModule {}
  return EffectModule;
}

function rootModule(variant: AppVariant): DynamicModule {
  const base = appConfigFromEnv();
  const modules = variant === 'reference' ? ['ingestion', 'ledger', 'analytics'] : ['ingestion'];
  // The same-effect variant is its own deployment: ingestion plus the two effect modules below, so
  // the catalog's ledger and analytics are not declared (its in-process relay must not wait for them).
  const messaging = variant === 'ingest-only' ? { relayEnabled: false } : variant === 'same-effect' ? { declaredDurableModules: [] } : {};
  const app = AppModule.register({ ...base, modules }, messaging);
  @Module({})
  class BenchAppRoot {}
  return {
    module: BenchAppRoot,
    imports: [app, ...(variant === 'same-effect' ? [effectModule('fx_ledger', 'to'), effectModule('fx_analytics', 'currency')] : [])],
  };
}

// ------------------------------------------------------------ the host

const WATCHED_EVENT = TransferIngested.type;

let app: INestApplication | undefined;
let variant: AppVariant;
let transport: Transport;
const watched: string[] = [];
let probe: RunProbe | undefined;

/** Wraps each durable subscription of TransferIngested so its completed deliveries reach the probe. */
function watchDeliveries(target: Transport): void {
  const subscribe = target.subscribe.bind(target);
  target.subscribe = (subscription: TransportSubscription): void => {
    if (subscription.mode !== 'durable' || !subscription.eventTypes.includes(WATCHED_EVENT)) return subscribe(subscription);
    watched.push(subscription.subscriber);
    const deliver = subscription.deliver.bind(subscription);
    const wrapped: TransportSubscription = Object.create(subscription);
    Object.defineProperty(wrapped, 'deliver', {
      value: async (envelopes: Parameters<TransportSubscription['deliver']>[0]): Promise<void> => {
        const ids = envelopes.map((envelope) => (envelope.payload as { transferId: string }).transferId);
        probe?.delivering(ids);
        await deliver(envelopes);
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
  return { subscribers: watched };
}

/**
 * Waits until every armed transfer is handled by every subscriber, then until nothing is left in
 * the outbox or the broker (the ledger's BalanceChanged events included). Returns when that was.
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
    if (backlog.outboxPending === 0 && backlog.retriesPending === 0 && inBroker === 0) {
      if (!first) drainedAt = nowMs();
      break;
    }
    if (Date.now() > deadline) throw new Error(`not drained after ${timeoutMs} ms: ${JSON.stringify(backlog)}, broker ${inBroker}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { drainedAt, firstCommitAt: probe.firstCommitAt, handled: probe.handledCount };
}

function latencies(): ReturnType<RunProbe['latencies']> {
  if (!probe) throw new Error('not armed');
  return probe.latencies();
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
    await expect('ledger inbox', 'SELECT count(*) AS n FROM ledger.inbox', n);
    await expect('analytics inbox', 'SELECT count(*) AS n FROM analytics.inbox', n);
    await expect('ledger entries (2 per transfer)', 'SELECT count(*) AS n FROM ledger.entries', 2 * n);
    await expect('analytics count', 'SELECT coalesce(sum(count), 0) AS n FROM analytics.hourly', n);
    const report = await app!.get(InvariantsService, { strict: false }).check();
    checks.push({ name: 'invariants (verify)', ok: report.ok, detail: report.results.filter((r) => !r.ok).map((r) => r.name).join(', ') || 'all hold' });
  } else if (variant === 'same-effect') {
    for (const schema of ['fx_ledger', 'fx_analytics']) {
      await expect(`${schema} inbox`, `SELECT count(*) AS n FROM ${schema}.inbox`, n);
      await expect(`${schema} effects`, `SELECT count(*) AS n FROM ${schema}.effects`, n);
    }
  }
  return checks;
}

/** Empties what a run wrote, so every run starts from the same tables. */
async function reset(): Promise<void> {
  const tables = {
    reference: 'ingestion.transfers, ledger.balances, ledger.entries, ledger.inbox, analytics.hourly, analytics.inbox',
    'same-effect': 'ingestion.transfers, fx_ledger.effects, fx_ledger.inbox, fx_analytics.effects, fx_analytics.inbox',
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

serve({ start, arm, awaitDrain, latencies, verify, reset, counters, profileStart, profileStop, close } as never);

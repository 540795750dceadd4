/**
 * The runner's side of the pipeline contenders: each owns a fresh database and a worker process.
 * Modulith's variants run the app (lib/app-host.ts) and are fed over HTTP from here, as clients
 * would; the bare-SQL ceiling and the peers produce and consume inside their own process.
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BATCH } from '../../lib/config';
import { createDatabase, type BenchDatabase } from '../../lib/db';
import { HttpClient } from '../../lib/http';
import { note, nowMs, Worker } from '../../lib/ipc';
import { produceAll, produceAtRate } from '../../lib/load';
import type { Check } from '../../lib/scenario';
import type { LatencySummary } from '../../lib/stats';
import { transfers } from '../../lib/transfers';
import type { AppVariant } from '../../lib/app-host';
import { WaitSampler } from '../../lib/wait-sampler';

export interface LatencyRun {
  /** With the split at the moment a consumer took the event, where the contender reports it. */
  summary: LatencySummary & {
    split?: { toDelivery: LatencySummary; inHandlers: LatencySummary; toRelay?: LatencySummary };
    /** Modulith: the app's event-loop delay during the run, ms. */
    eventLoopDelay?: { p50: number; p99: number; max: number };
    /** Modulith: relay claims, deliveries and handler calls during the run (count, events per call, ms). */
    internals?: Record<string, { count: number; eventsPerCall: number; p50Ms: number; p99Ms: number; totalMs: number }>;
  };
  achievedRate: number;
}

export interface Contender {
  readonly id: string;
  readonly label: string;
  /** Modulith and the ceiling: what the targets compare (latency measured even above 80% of the throughput, flagged). */
  readonly subject?: boolean;
  start(): Promise<void>;
  /** Milliseconds from the first transfer sent to the full drain. */
  throughput(prefix: string, n: number, timeoutMs: number): Promise<number>;
  /**
   * CPU time (user + system, µs) the contender's own process spent in its last throughput run:
   * the app (HTTP ingest, relay, delivery) for Modulith, producer and consumers for the others.
   * PostgreSQL's share is not in it. Steadier than throughput on a shared machine.
   */
  readonly lastCpuMicros?: number;
  latency(prefix: string, rate: number, seconds: number, timeoutMs: number): Promise<LatencyRun>;
  verify(n: number): Promise<Check[]>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const LIB = path.join(__dirname, '..', '..', 'lib');

/** Modulith: the app in its own process, fed by HTTP batch requests from this one. */
export class AppContender implements Contender {
  readonly subject = true;
  private database?: BenchDatabase;
  private worker?: Worker;
  private client?: HttpClient;
  private port = 0;
  transport = '';

  constructor(
    readonly id: string,
    readonly label: string,
    private readonly variant: AppVariant,
    private readonly env: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {
    this.database = await createDatabase(this.id);
    this.worker = Worker.start(this.id, path.join(LIB, 'app-host.ts'), [], {
      DATABASE_URL: this.database.url,
      DB_POOL_SIZE: '10',
      RELAY_CONCURRENCY: '2',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      MODULES: '',
      ...this.env,
    });
    const started = await this.worker.call<{ port: number; transport: string; subscribers: string[] }>('start', { variant: this.variant });
    this.transport = started.transport;
    if (this.variant !== 'ingest-only' && started.subscribers.length !== 2) {
      throw new Error(`${this.id}: expected 2 subscribers of TransferIngested, found ${started.subscribers.join(', ') || 'none'}`);
    }
    this.port = started.port;
    this.client = new HttpClient(started.port, 64);
  }

  /**
   * One batch, as a client would send it: a 503 ("database temporarily unavailable": e.g. its
   * connections ended by another user of a shared server) is retried, up to 5 times 200 ms apart;
   * the endpoint is idempotent (a batch that did commit comes back as replayed).
   */
  private post = (prefix: string) => async (from: number, count: number): Promise<void> => {
    const body = { transfers: transfers(prefix, from, count) };
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client!.postJson('/transfers/batch', body, 201);
        return;
      } catch (error) {
        if (attempt > 5 || !/HTTP 503/.test((error as Error).message)) throw error;
        note(`${this.label}: POST /transfers/batch answered 503, retrying (${attempt}/5): ${(error as Error).message.slice(0, 160)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };

  /** Fresh connections per run: the server closes keep-alive sockets idle for longer than its timeout. */
  private reconnect(): void {
    this.client?.close();
    this.client = new HttpClient(this.port, 64);
  }

  /** With BENCH_WAITS=1: what the database sessions waited on during the throughput runs. */
  waits: Awaited<ReturnType<WaitSampler['stop']>>[] = [];
  lastCpuMicros?: number;

  async throughput(prefix: string, n: number, timeoutMs: number): Promise<number> {
    await this.worker!.call('arm', { prefix, n });
    this.reconnect();
    const sampler = process.env['BENCH_WAITS'] === '1' ? new WaitSampler(this.database!.url) : undefined;
    await sampler?.start();
    // BENCH_CPU_PROF=1: a V8 CPU profile of the app during each throughput run (bench/lib/cpu-profile-top.mjs reads it).
    const profile = process.env['BENCH_CPU_PROF'] === '1' ? path.join(LIB, '..', 'results', 'profiles', `${this.id}-${prefix}.cpuprofile`) : undefined;
    if (profile) await this.worker!.call('profileStart');
    const cpuBefore = await this.worker!.call<number>('cpu');
    const started = nowMs();
    await produceAll(n, BATCH, 2, this.post(prefix));
    const { drainedAt } = await this.worker!.call<{ drainedAt: number }>('awaitDrain', { timeoutMs });
    this.lastCpuMicros = (await this.worker!.call<number>('cpu')) - cpuBefore;
    if (profile) await this.worker!.call('profileStop', { file: profile });
    if (sampler) this.waits.push(await sampler.stop());
    return drainedAt - started;
  }

  async latency(prefix: string, rate: number, seconds: number, timeoutMs: number): Promise<LatencyRun> {
    await this.worker!.call('arm', { prefix, n: Math.round(rate * seconds) });
    this.reconnect();
    const { achievedRate } = await produceAtRate(rate, seconds, this.post(prefix));
    await this.worker!.call('awaitDrain', { timeoutMs });
    return { summary: await this.worker!.call<LatencyRun['summary']>('latencies'), achievedRate };
  }

  verify(n: number): Promise<Check[]> {
    return this.worker!.call<Check[]>('verify', { n });
  }

  async reset(): Promise<void> {
    await this.worker!.call('reset');
  }

  /** A client on fresh connections, for scenarios that drive the app directly (ingest). */
  get http(): HttpClient {
    this.reconnect();
    return this.client!;
  }

  get databaseUrl(): string {
    return this.database!.url;
  }

  async stop(): Promise<void> {
    this.client?.close();
    await this.worker?.stop();
    await this.database?.drop();
  }
}

/** A peer or the bare-SQL ceiling: producer and consumers in its own process (scenarios/pipeline/<file>.ts). */
export class PeerContender implements Contender {
  private database?: BenchDatabase;
  private worker?: Worker;

  constructor(
    readonly id: string,
    readonly label: string,
    private readonly file: string,
    /** The bare-SQL ceiling: the bar of the latency targets, so measured like Modulith. */
    readonly subject = false,
  ) {}

  async start(): Promise<void> {
    this.database = await createDatabase(this.id);
    this.worker = Worker.start(this.id, path.join(__dirname, `${this.file}.ts`));
    await this.worker.call('setup', { databaseUrl: this.database.url, redisPrefix: `bench:${randomBytes(4).toString('hex')}` });
  }

  lastCpuMicros?: number;

  async throughput(prefix: string, n: number, timeoutMs: number): Promise<number> {
    const { elapsedMs, cpuMicros } = await this.worker!.call<{ elapsedMs: number; cpuMicros: number }>('throughput', { prefix, n, timeoutMs });
    this.lastCpuMicros = cpuMicros;
    return elapsedMs;
  }

  latency(prefix: string, rate: number, seconds: number, timeoutMs: number): Promise<LatencyRun> {
    return this.worker!.call<LatencyRun>('latency', { prefix, rate, seconds, timeoutMs });
  }

  verify(n: number): Promise<Check[]> {
    return this.worker!.call<Check[]>('verify', { n });
  }

  async reset(): Promise<void> {
    await this.worker!.call('reset');
  }

  async stop(): Promise<void> {
    await this.worker?.stop();
    await this.database?.drop();
  }
}

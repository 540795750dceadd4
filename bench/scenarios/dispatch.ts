/**
 * Scenario `dispatch`: a call through the in-process CommandBus/QueryBus against the same use
 * case over HTTP on loopback (the app's own HTTP stack: Fastify, correlation ids, error filter),
 * from a client in another process, one request at a time on a keep-alive connection; and the
 * same bus call made from another process that hosts no module, which the platform carries over
 * Redis request/reply ("remote over Redis": what moving a module out costs a synchronous caller).
 * Three use cases: a query and a command that do no I/O (registered here), and the ingestion
 * module's GetTransferQuery, which reads PostgreSQL.
 */
import * as path from 'node:path';
import { Body, Controller, Get, HttpCode, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, CommandHandler, QueryBus, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import IORedis from 'ioredis';
import { configureHttpApp, createHttpAdapter, readObject } from '@modulith/http';
import { GetTransferQuery, IngestTransfersCommand } from '@modulith/ingestion/contracts';
import { defineModule, MessagingModule } from '@modulith/messaging';
import { appConfigFromEnv } from '../../apps/api/src/app.config';
import { AppModule } from '../../apps/api/src/app.module';
import { sizes } from '../lib/config';
import { createDatabase, REDIS_URL } from '../lib/db';
import { note, progress, Worker } from '../lib/ipc';
import type { Check, ScenarioResult } from '../lib/scenario';
import { fmt, fmtInt, median, medianSummary, NanoLatencies, ratio, type LatencySummary } from '../lib/stats';
import { transferAt } from '../lib/transfers';
import { BENCH_MODULE, GetQuoteQuery, RecordTickCommand, type Quote } from './dispatch/bench-calls';
import type { RemoteCall } from './dispatch/remote-client';

// ------------------------------------------------------------ a no-I/O query and command

@QueryHandler(GetQuoteQuery)
class GetQuoteHandler implements IQueryHandler<GetQuoteQuery> {
  async execute({ id }: GetQuoteQuery): Promise<Quote> {
    return { id, price: id.length * 100 };
  }
}

@CommandHandler(RecordTickCommand)
class RecordTickHandler implements ICommandHandler<RecordTickCommand> {
  private total = 0;
  async execute({ amount }: RecordTickCommand): Promise<{ total: number }> {
    this.total += amount;
    return { total: this.total };
  }
}

@Controller('bench')
class DispatchController {
  constructor(
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
  ) {}

  @Get('quotes/:id')
  quote(@Param('id') id: string): Promise<Quote> {
    return this.queries.execute(new GetQuoteQuery(id));
  }

  @Post('ticks')
  @HttpCode(200)
  tick(@Body() body: unknown): Promise<{ total: number }> {
    const amount = readObject(body, '', ['amount'])['amount'];
    return this.commands.execute(new RecordTickCommand(Number(amount)));
  }
}

// Registered as a module of this process, so its public messages are served here (and sent here by the remote caller).
@Module({ imports: [MessagingModule.forModule(defineModule({ name: BENCH_MODULE, schema: false }))], controllers: [DispatchController], providers: [GetQuoteHandler, RecordTickHandler] })
class DispatchModule {}

// ------------------------------------------------------------ measuring

interface Case {
  label: string;
  inProcess: () => Promise<unknown>;
  http: { method: string; path: string; body?: string; expectedStatus: number };
  remote: { call: RemoteCall; arg: string };
  /** Fewer calls for cases that do I/O. */
  scale: number;
}

interface Run {
  perSecond: number;
  summary: LatencySummary;
}

async function timeInProcess(call: () => Promise<unknown>, calls: number): Promise<Run> {
  const latencies = new NanoLatencies();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) {
    const t0 = process.hrtime.bigint();
    await call();
    latencies.recordNs(Number(process.hrtime.bigint() - t0));
  }
  return { perSecond: calls / (Number(process.hrtime.bigint() - started) / 1e9), summary: latencies.summary() };
}

/** Whether Redis answers; without it the remote contender is left out (and said so). */
async function redisAnswers(): Promise<boolean> {
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 2000 });
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch (error) {
    note(`dispatch: could not delete Redis keys ${prefix}*: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

type Figures = LatencySummary & { perSecond: number };

/** Median figures of one contender's runs. */
function figures(runs: readonly Run[]): Figures {
  return { perSecond: median(runs.map((r) => r.perSecond)), ...medianSummary(runs.map((r) => r.summary)) };
}

export async function run(): Promise<ScenarioResult> {
  const database = await createDatabase('dispatch');
  process.env['DATABASE_URL'] = database.url;
  const config = appConfigFromEnv();
  const remoteOn = await redisAnswers();
  const redisPrefix = `bench-dispatch-${process.pid}`;
  const redis = { EVENT_TRANSPORT: 'redis', REDIS_URL, REDIS_KEY_PREFIX: redisPrefix };
  // Over Redis this process serves its modules' calls; its own bus calls stay in-process calls.
  const messaging = remoteOn ? { relayEnabled: false, eventTransport: 'redis' as const, redisUrl: REDIS_URL, redisKeyPrefix: redisPrefix } : { relayEnabled: false };
  @Module({ imports: [AppModule.register({ ...config, modules: ['ingestion'] }, messaging), DispatchModule] })
  class DispatchRoot {}
  let app: INestApplication | undefined;
  let client: Worker | undefined;
  let remote: Worker | undefined;
  const checks: Check[] = [];
  try {
    app = await NestFactory.create<NestFastifyApplication>(DispatchRoot, createHttpAdapter(config.http), { logger: ['error', 'warn'], bodyParser: false });
    configureHttpApp(app, {});
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as { port: number }).port;
    const queries = app.get(QueryBus);
    const commands = app.get(CommandBus);
    const transfer = transferAt('dispatch', 1);
    await commands.execute(new IngestTransfersCommand([transfer]));

    const quote = await queries.execute(new GetQuoteQuery('q-1'));
    const stored = await queries.execute(new GetTransferQuery(transfer.id));
    checks.push({ name: 'GetQuoteQuery answers', ok: quote.price === 300, detail: JSON.stringify(quote) });
    checks.push({ name: 'GetTransferQuery finds the stored transfer', ok: stored?.amount === transfer.amount, detail: JSON.stringify(stored) });

    const cases: Case[] = [
      {
        label: 'query, no I/O (QueryBus vs GET)',
        inProcess: () => queries.execute(new GetQuoteQuery('q-1')),
        http: { method: 'GET', path: '/bench/quotes/q-1', expectedStatus: 200 },
        remote: { call: 'quote', arg: 'q-1' },
        scale: 1,
      },
      {
        label: 'command, no I/O (CommandBus vs POST)',
        inProcess: () => commands.execute(new RecordTickCommand(1)),
        http: { method: 'POST', path: '/bench/ticks', body: '{"amount":1}', expectedStatus: 200 },
        remote: { call: 'tick', arg: '' },
        scale: 1,
      },
      {
        label: 'GetTransferQuery, reads PostgreSQL',
        inProcess: () => queries.execute(new GetTransferQuery(transfer.id)),
        http: { method: 'GET', path: `/transfers/${transfer.id}`, expectedStatus: 200 },
        remote: { call: 'transfer', arg: transfer.id },
        scale: 0.05,
      },
    ];
    const httpClient = (client = Worker.start('dispatch-client', path.join(__dirname, 'dispatch', 'http-client.ts')));
    if (remoteOn) {
      remote = Worker.start('dispatch-remote', path.join(__dirname, 'dispatch', 'remote-client.ts'), [], { ...redis, DATABASE_URL: database.url, MODULES: 'none', LOG_LEVEL: 'warn' });
      const first = await remote.call<{ first: Quote }>('measure', { call: 'quote', arg: 'q-1', calls: 1 });
      const remoteTransfer = await remote.call<{ first: { amount?: string } | null }>('measure', { call: 'transfer', arg: transfer.id, calls: 1 });
      checks.push({ name: 'GetQuoteQuery answers the remote caller the same', ok: JSON.stringify(first.first) === JSON.stringify(quote), detail: JSON.stringify(first.first) });
      checks.push({ name: 'GetTransferQuery finds the stored transfer for the remote caller', ok: remoteTransfer.first?.amount === transfer.amount, detail: JSON.stringify(remoteTransfer.first) });
    } else {
      note(`dispatch: Redis at ${REDIS_URL} does not answer; the "remote over Redis" contender is left out`);
    }
    const { calls, requests } = sizes.dispatch;
    const runs = sizes.runs;
    const total = cases.length * (runs + 1);
    let done = 0;
    const results = [];
    const remoteClient = remote;
    for (const c of cases) {
      const n = Math.max(50, Math.round(calls * c.scale));
      const timeHttp = (count: number): Promise<Run> => httpClient.call('measure', { port, ...c.http, requests: count });
      const timeRemote = (count: number): Promise<Run> | undefined => remoteClient?.call('measure', { ...c.remote, calls: count });
      progress(`dispatch: warm-up, ${c.label}`, done, total);
      await timeInProcess(c.inProcess, n);
      await timeHttp(Math.max(20, Math.round(requests / 4)));
      await timeRemote(Math.max(20, Math.round(requests / 4)));
      done += 1;
      const inProcess: Run[] = [];
      const http: Run[] = [];
      const overRedis: Run[] = [];
      for (let round = 0; round < runs; round += 1) {
        progress(`dispatch: round ${round + 1}/${runs}, ${c.label}`, done, total);
        // Rotate which side goes first.
        const sides = [async () => inProcess.push(await timeInProcess(c.inProcess, n)), async () => http.push(await timeHttp(requests))];
        if (remoteClient) sides.push(async () => overRedis.push((await timeRemote(requests)) as Run));
        for (let i = 0; i < sides.length; i += 1) await sides[(i + round) % sides.length]();
        done += 1;
      }
      results.push({ label: c.label, inProcess, http, overRedis });
    }
    progress('dispatch: done', total, total);

    const rows = results.map((r) => {
      const a = figures(r.inProcess);
      const b = figures(r.http);
      const c = r.overRedis.length ? figures(r.overRedis) : undefined;
      return { label: r.label, inProcess: a, http: b, remote: c, ratioThroughput: a.perSecond / b.perSecond, ratioP50: b.p50 / a.p50 };
    });
    const cells = (f: Figures, withP999 = true): string[] => [fmtInt(f.perSecond), fmt(f.p50), fmt(f.p99), ...(withP999 ? [fmt(f.p999)] : [])];
    const tables = [
      {
        caption: `Sequential calls, latency in µs (HdrHistogram); median of ${runs} runs of ${fmtInt(calls)} in-process calls (5% of that for the PostgreSQL case) and ${fmtInt(requests)} HTTP requests`,
        header: ['use case', 'in-process calls/s', 'p50', 'p99', 'p999', 'HTTP req/s', 'p50', 'p99', 'p999', 'in-process / HTTP (calls/s)', 'HTTP p50 / in-process p50'],
        rows: rows.map((r) => [r.label, ...cells(r.inProcess), ...cells(r.http), ratio(r.ratioThroughput), ratio(r.ratioP50)]),
      },
    ];
    if (remote) {
      tables.push({
        caption: `The same bus call from another process that hosts no module, carried over Redis request/reply, beside in-process and HTTP loopback; latency in µs; median of ${runs} runs of ${fmtInt(requests)} remote calls`,
        header: ['use case', 'in-process calls/s', 'p50', 'p99', 'HTTP req/s', 'p50', 'p99', 'remote over Redis calls/s', 'p50', 'p99', 'p999', 'remote p50 / in-process p50', 'remote p50 / HTTP p50'],
        rows: rows.map((r) => {
          const c = r.remote as Figures;
          return [r.label, ...cells(r.inProcess, false), ...cells(r.http, false), ...cells(c), ratio(c.p50 / r.inProcess.p50), ratio(c.p50 / r.http.p50)];
        }),
      });
    }
    return {
      name: 'dispatch',
      title: remote ? 'Dispatch: in-process bus call vs the same use case over HTTP on loopback and as a remote call over Redis' : 'Dispatch: in-process bus call vs the same use case over HTTP on loopback',
      tables,
      checks,
      notes: [
        'HTTP: a client in another process, one keep-alive connection, one request at a time, through the same Fastify set-up as the app (correlation id, admin-token hook, security headers, error filter); latency includes the client.',
        ...(remote
          ? [
              'Remote over Redis: another process composed as the app with MODULES=none and EVENT_TRANSPORT=redis calls `queryBus.execute(...)` / `commandBus.execute(...)` one at a time; the platform sends each over Redis (request stream per module, reply list per process) to this process, which hosts the modules. The no-I/O command starts no Database.transaction, so it writes no idempotency receipt: a command that writes adds one INSERT to its own transaction.',
            ]
          : ['Remote over Redis: left out, Redis did not answer.']),
      ],
      data: { rows },
    };
  } finally {
    await remote?.stop();
    await client?.stop();
    await app?.close();
    await database.drop();
    if (remoteOn) await deleteKeys(redisPrefix);
  }
}

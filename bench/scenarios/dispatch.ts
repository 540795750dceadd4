/**
 * Scenario `dispatch`: a call through the in-process CommandBus/QueryBus against the same use
 * case over HTTP on loopback (the app's own HTTP stack: Fastify, correlation ids, error filter),
 * from a client in another process, one request at a time on a keep-alive connection. Three use
 * cases: a query and a command that do no I/O (registered here), and the ingestion module's
 * GetTransferQuery, which reads PostgreSQL.
 */
import * as path from 'node:path';
import { Body, Controller, Get, HttpCode, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommandBus, CommandHandler, Query, QueryBus, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { configureHttpApp, createHttpAdapter, readObject } from '@modulith/http';
import { GetTransferQuery, IngestTransfersCommand } from '@modulith/ingestion/contracts';
import { appConfigFromEnv } from '../../apps/api/src/app.config';
import { AppModule } from '../../apps/api/src/app.module';
import { sizes } from '../lib/config';
import { createDatabase } from '../lib/db';
import { progress, Worker } from '../lib/ipc';
import type { Check, ScenarioResult } from '../lib/scenario';
import { fmt, fmtInt, median, medianSummary, NanoLatencies, ratio, type LatencySummary } from '../lib/stats';
import { transferAt } from '../lib/transfers';

// ------------------------------------------------------------ a no-I/O query and command

interface Quote {
  id: string;
  price: number;
}

class GetQuoteQuery extends Query<Quote> {
  constructor(readonly id: string) {
    super();
  }
}

@QueryHandler(GetQuoteQuery)
class GetQuoteHandler implements IQueryHandler<GetQuoteQuery> {
  async execute({ id }: GetQuoteQuery): Promise<Quote> {
    return { id, price: id.length * 100 };
  }
}

class RecordTickCommand extends Command<{ total: number }> {
  constructor(readonly amount: number) {
    super();
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

@Module({ controllers: [DispatchController], providers: [GetQuoteHandler, RecordTickHandler] })
class DispatchModule {}

// ------------------------------------------------------------ measuring

interface Case {
  label: string;
  inProcess: () => Promise<unknown>;
  http: { method: string; path: string; body?: string; expectedStatus: number };
  /** Fewer calls for cases that do I/O. */
  scale: number;
}

async function timeInProcess(call: () => Promise<unknown>, calls: number): Promise<{ perSecond: number; summary: LatencySummary }> {
  const latencies = new NanoLatencies();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) {
    const t0 = process.hrtime.bigint();
    await call();
    latencies.recordNs(Number(process.hrtime.bigint() - t0));
  }
  return { perSecond: calls / (Number(process.hrtime.bigint() - started) / 1e9), summary: latencies.summary() };
}

export async function run(): Promise<ScenarioResult> {
  const database = await createDatabase('dispatch');
  process.env['DATABASE_URL'] = database.url;
  const config = appConfigFromEnv();
  @Module({ imports: [AppModule.register({ ...config, modules: ['ingestion'] }, { relayEnabled: false }), DispatchModule] })
  class DispatchRoot {}
  let app: INestApplication | undefined;
  let client: Worker | undefined;
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
      { label: 'query, no I/O (QueryBus vs GET)', inProcess: () => queries.execute(new GetQuoteQuery('q-1')), http: { method: 'GET', path: '/bench/quotes/q-1', expectedStatus: 200 }, scale: 1 },
      { label: 'command, no I/O (CommandBus vs POST)', inProcess: () => commands.execute(new RecordTickCommand(1)), http: { method: 'POST', path: '/bench/ticks', body: '{"amount":1}', expectedStatus: 200 }, scale: 1 },
      { label: 'GetTransferQuery, reads PostgreSQL', inProcess: () => queries.execute(new GetTransferQuery(transfer.id)), http: { method: 'GET', path: `/transfers/${transfer.id}`, expectedStatus: 200 }, scale: 0.05 },
    ];
    client = Worker.start('dispatch-client', path.join(__dirname, 'dispatch', 'http-client.ts'));
    const { calls, requests } = sizes.dispatch;
    const runs = sizes.runs;
    const total = cases.length * (runs + 1);
    let done = 0;
    const results = [];
    for (const c of cases) {
      const n = Math.max(50, Math.round(calls * c.scale));
      progress(`dispatch: warm-up, ${c.label}`, done, total);
      await timeInProcess(c.inProcess, n);
      await client.call('measure', { port, ...c.http, requests: Math.max(20, Math.round(requests / 4)) });
      done += 1;
      const inProcess: { perSecond: number; summary: LatencySummary }[] = [];
      const http: { perSecond: number; summary: LatencySummary }[] = [];
      for (let round = 0; round < runs; round += 1) {
        progress(`dispatch: round ${round + 1}/${runs}, ${c.label}`, done, total);
        // Alternate which side goes first.
        const sides = [async () => inProcess.push(await timeInProcess(c.inProcess, n)), async () => http.push(await client!.call('measure', { port, ...c.http, requests }))];
        if (round % 2) sides.reverse();
        for (const side of sides) await side();
        done += 1;
      }
      results.push({ label: c.label, inProcess, http });
    }
    progress('dispatch: done', total, total);

    const rows = results.map((r) => {
      const a = medianSummary(r.inProcess.map((x) => x.summary));
      const b = medianSummary(r.http.map((x) => x.summary));
      const aRate = median(r.inProcess.map((x) => x.perSecond));
      const bRate = median(r.http.map((x) => x.perSecond));
      return {
        label: r.label,
        inProcess: { perSecond: aRate, ...a },
        http: { perSecond: bRate, ...b },
        ratioThroughput: aRate / bRate,
        ratioP50: b.p50 / a.p50,
      };
    });
    return {
      name: 'dispatch',
      title: 'Dispatch: in-process bus call vs the same use case over HTTP on loopback',
      tables: [
        {
          caption: `Sequential calls, latency in µs (HdrHistogram); median of ${runs} runs of ${fmtInt(calls)} in-process calls (5% of that for the PostgreSQL case) and ${fmtInt(requests)} HTTP requests`,
          header: ['use case', 'in-process calls/s', 'p50', 'p99', 'p999', 'HTTP req/s', 'p50', 'p99', 'p999', 'in-process / HTTP (calls/s)', 'HTTP p50 / in-process p50'],
          rows: rows.map((r) => [
            r.label,
            fmtInt(r.inProcess.perSecond),
            fmt(r.inProcess.p50),
            fmt(r.inProcess.p99),
            fmt(r.inProcess.p999),
            fmtInt(r.http.perSecond),
            fmt(r.http.p50),
            fmt(r.http.p99),
            fmt(r.http.p999),
            ratio(r.ratioThroughput),
            ratio(r.ratioP50),
          ]),
        },
      ],
      checks,
      notes: [
        'HTTP: a client in another process, one keep-alive connection, one request at a time, through the same Fastify set-up as the app (correlation id, admin-token hook, security headers, error filter); latency includes the client.',
      ],
      data: { rows },
    };
  } finally {
    await client?.stop();
    await app?.close();
    await database.drop();
  }
}

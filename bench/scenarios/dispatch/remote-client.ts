/**
 * The remote side of `dispatch`, in its own process: the app composed with no module
 * (`MODULES=none`) on `EVENT_TRANSPORT=redis`, calling the scenario process's bus with the same
 * `execute` calls as in process; they travel over Redis request/reply. Sequential calls.
 */
import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { GetTransferQuery } from '@modulith/ingestion/contracts';
import { appConfigFromEnv } from '../../../apps/api/src/app.config';
import { AppModule } from '../../../apps/api/src/app.module';
import { serve } from '../../lib/ipc';
import { NanoLatencies } from '../../lib/stats';
import { GetQuoteQuery, RecordTickCommand } from './bench-calls';

export type RemoteCall = 'quote' | 'tick' | 'transfer';

let context: INestApplicationContext | undefined;

async function boot(): Promise<INestApplicationContext> {
  const config = appConfigFromEnv();
  context ??= await NestFactory.createApplicationContext(AppModule.register({ ...config, modules: [] }, { relayEnabled: false, registerInstance: false }), {
    logger: ['error', 'warn'],
  });
  return context;
}

serve({
  async measure({ call, arg, calls }: { call: RemoteCall; arg: string; calls: number }) {
    const app = await boot();
    const queries = app.get(QueryBus);
    const commands = app.get(CommandBus);
    const send: Record<RemoteCall, () => Promise<unknown>> = {
      quote: () => queries.execute(new GetQuoteQuery(arg)),
      tick: () => commands.execute(new RecordTickCommand(1)),
      transfer: () => queries.execute(new GetTransferQuery(arg)),
    };
    const first = await send[call]();
    const latencies = new NanoLatencies();
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i += 1) {
      const t0 = process.hrtime.bigint();
      await send[call]();
      latencies.recordNs(Number(process.hrtime.bigint() - t0));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { perSecond: calls / seconds, summary: latencies.summary(), first };
  },
  async close() {
    await context?.close();
  },
} as never);

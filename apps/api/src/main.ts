import 'reflect-metadata';
// First: tracing (when asked for) must be on before pg, ioredis and http are loaded.
import { tracing } from './tracing/tracing';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { envInt } from '@modulith/core';
import { Database } from '@modulith/database';
import { DeadLetters, MessagingMetrics, OutboxRetention, runDeadLetterCommand, runOutboxCommand } from '@modulith/messaging/operator';
import { appConfigFromEnv } from './app.config';
import { AppModule } from './app.module';
import { createApp, createLogger } from './bootstrap';
import { closeOnSignals } from './graceful-shutdown';
import { reportTracingProblems, shutdownTracing } from './tracing/tracing-reports';
import { formatReport, InvariantsService } from './invariants/invariants.service';
import { waitForDrain } from './invariants/pipeline-drain';
import { verifyPlanFromEnv } from './invariants/verify-plan';
import { namingVariable } from './platform-options';

async function serve(): Promise<void> {
  const config = appConfigFromEnv();
  const logger = createLogger(config);
  const app = await createApp(config, logger);
  // Exports that fail (collector down, refusing, hanging) are logged, at most once a minute.
  if (tracing) reportTracingProblems(logger, envInt(process.env, 'TRACING_REPORT_INTERVAL_MS', 60_000, 0));
  // The last spans (the shutdown's own) are flushed once the app closed, within what is left of the budget.
  closeOnSignals(app, logger, config.shutdownTimeoutMs, (remainingMs) => shutdownTracing(tracing, remainingMs, logger));
  await app.listen(config.port, config.host);
  logger.log(`listening on http://${config.host}:${config.port}`, 'Main');
}

/** `main.js migrate`: apply every module's pending migrations, print them, and exit. */
async function migrate(): Promise<void> {
  const base = appConfigFromEnv();
  // Migrations run while the database starts, before any module checks its tables.
  const config = { ...base, database: { ...base.database, migrateOnStart: true } };
  const logger = createLogger(config);
  const context = await NestFactory.createApplicationContext(AppModule.register(config, { relayEnabled: false, eventTransport: 'inprocess', registerInstance: false, consumeEvents: false }), { logger });
  try {
    for (const report of context.get(Database).migrationReports) {
      console.log(`${report.module}: ${report.applied.length ? `applied ${report.applied.join(', ')}` : 'up to date'}`);
    }
  } finally {
    await context.close();
  }
}

/**
 * `main.js verify`: waits for the pipeline to drain (VERIFY_TIMEOUT_MS), then checks the
 * invariants through each module's public queries; exit 1 names any violation. Read-only: it
 * runs no relay, so it can sit beside a running app. By default it loads the modules it reads;
 * with `VERIFY_QUERIES=remote` it hosts none and its queries go over Redis to the processes that
 * host them (see verifyPlanFromEnv).
 */
async function verify(): Promise<void> {
  const base = appConfigFromEnv();
  const plan = verifyPlanFromEnv();
  // Only the modules whose queries the check reads (or none): others may not be deployed (or migrated) anywhere.
  const config = { ...base, modules: plan.modules, database: { ...base.database, migrateOnStart: false } };
  const logger = createLogger(config);
  const context = await NestFactory.createApplicationContext(AppModule.register(config, { relayEnabled: false, eventTransport: plan.eventTransport, registerInstance: false, consumeEvents: false }), { logger });
  try {
    const timeoutMs = plan.drainTimeoutMs;
    const { drained, backlog } = await waitForDrain(context.get(MessagingMetrics), timeoutMs);
    console.log(`pipeline: ${backlog.outboxPending} pending in the outbox, ${backlog.retriesPending} awaiting retry, ${backlog.deadLetters} dead letters`);
    if (!drained) console.log(`the pipeline did not drain within ${timeoutMs} ms: checking anyway`);
    const report = await context.get(InvariantsService).check();
    console.log(formatReport(report));
    process.exitCode = report.ok && drained ? 0 : 1;
  } finally {
    await context.close();
  }
}

/** `main.js dead-letters list|replay <id>|replay-all <subscriber>`: operate on dead letters. */
async function deadLetters(): Promise<void> {
  const base = appConfigFromEnv();
  const config = { ...base, database: { ...base.database, migrateOnStart: false } };
  const context = await NestFactory.createApplicationContext(AppModule.register(config, { relayEnabled: false, eventTransport: 'inprocess', registerInstance: false, consumeEvents: false }), {
    logger: createLogger({ ...config, logLevel: 'warn' }),
  });
  try {
    process.exitCode = await runDeadLetterCommand(process.argv.slice(3), context.get(DeadLetters));
  } finally {
    await context.close();
  }
}

/** `main.js outbox retained | redrive --since <ISO> [--until <ISO>]`: the outbox retention window. */
async function outbox(): Promise<void> {
  const base = appConfigFromEnv();
  const config = { ...base, database: { ...base.database, migrateOnStart: false } };
  const context = await NestFactory.createApplicationContext(AppModule.register(config, { relayEnabled: false, eventTransport: 'inprocess', registerInstance: false, consumeEvents: false }), {
    logger: createLogger({ ...config, logLevel: 'warn' }),
  });
  try {
    process.exitCode = await runOutboxCommand(process.argv.slice(3), context.get(OutboxRetention));
  } finally {
    await context.close();
  }
}

const COMMANDS: Record<string, () => Promise<void>> = { serve, migrate, verify, 'dead-letters': deadLetters, outbox };
const command = process.argv[2] ?? 'serve';
const run = COMMANDS[command];
if (!run) {
  console.error(`unknown command "${command}": use ${Object.keys(COMMANDS).join(', ')}`);
  process.exit(2);
}
run().catch((thrown: unknown) => {
  // A library refuses an option by its own name; say which variable it came from.
  const error = namingVariable(thrown) as Error;
  new Logger('Main').error(`failed to ${command}: ${error.message}`, error.stack);
  process.exit(1);
});

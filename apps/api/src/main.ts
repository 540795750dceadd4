import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Database } from '@modulith/database';
import { appConfigFromEnv } from './app.config';
import { AppModule } from './app.module';
import { createApp, createLogger } from './bootstrap';
import { closeOnSignals } from './graceful-shutdown';

async function serve(): Promise<void> {
  const config = appConfigFromEnv();
  const logger = createLogger(config);
  const app = await createApp(config, logger);
  closeOnSignals(app, logger, config.shutdownTimeoutMs);
  await app.listen(config.port, config.host);
  logger.log(`listening on http://${config.host}:${config.port}`, 'Main');
}

/** `main.js migrate`: apply every module's pending migrations, print them, and exit. */
async function migrate(): Promise<void> {
  const config = { ...appConfigFromEnv(), database: { ...appConfigFromEnv().database, migrateOnStart: false } };
  const logger = createLogger(config);
  const context = await NestFactory.createApplicationContext(AppModule.register(config), { logger });
  try {
    const reports = await context.get(Database).migrate();
    for (const report of reports) {
      logger.log(`${report.module}: ${report.applied.length ? `applied ${report.applied.join(', ')}` : 'up to date'}`, 'Migrate');
    }
  } finally {
    await context.close();
  }
}

const command = process.argv[2] ?? 'serve';
const run = command === 'migrate' ? migrate : command === 'serve' ? serve : undefined;
if (!run) {
  console.error(`unknown command "${command}": use "serve" (default) or "migrate"`);
  process.exit(2);
}
run().catch((error: Error) => {
  new Logger('Main').error(`failed to ${command}: ${error.message}`, error.stack);
  process.exit(1);
});

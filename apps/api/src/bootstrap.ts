import { ConsoleLogger, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import { configureHttpApp, createHttpAdapter } from '@modulith/http';
import type { AppConfig, LogLevel } from './app.config';
import { AppModule } from './app.module';

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

export function createLogger(config: Pick<AppConfig, 'logLevel' | 'logFormat'>): LoggerService {
  return new ConsoleLogger({
    json: config.logFormat === 'json',
    colors: config.logFormat === 'pretty',
    logLevels: LEVELS.slice(0, LEVELS.indexOf(config.logLevel) + 1),
  });
}

/** Builds the app, connected and migrated, but not yet listening. */
export async function createApp(config: AppConfig, logger: LoggerService | false = createLogger(config)): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), createHttpAdapter(config.http), {
    logger,
    abortOnError: false,
    // Body parsing is ours (see configureHttpApp): malformed JSON must name the body.
    bodyParser: false,
  });
  configureHttpApp(app, { adminToken: config.adminToken });
  app.useWebSocketAdapter(new WsAdapter(app));
  await app.init();
  return app;
}

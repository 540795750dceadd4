import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import { Logger, PinoLogger, type Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { configureHttpApp, createHttpAdapter, resolveHttpOptions } from '@modulith/http';
import { createRootLogger, httpLoggingParams, instrumentHttp, secretScrubber } from '@modulith/observability';
import type { AppConfig } from './app.config';
import { AppModule } from './app.module';
import { setupOpenApi } from './openapi/openapi';
import { recordRoutes } from './openapi/route-inventory';

const loggingParams = new WeakMap<LoggerService, Params>();

/**
 * The process's logger: pino, JSON lines (pretty with `LOG_FORMAT=pretty`), at `LOG_LEVEL`, with
 * the correlation id of the request or event on every line and secrets masked. The app's request
 * logging writes through the same pino instance. `destination` is for tests.
 *
 * nestjs-pino keeps one root logger per process, made by whichever logger comes first: one app per
 * process (or per test file, when a test reads the lines back).
 */
export function createLogger(
  config: Pick<AppConfig, 'logLevel' | 'logFormat'> & Partial<Pick<AppConfig, 'adminToken'>>,
  destination?: DestinationStream,
): LoggerService {
  const root = createRootLogger({ level: config.logLevel, format: config.logFormat, destination, secrets: [config.adminToken] });
  const params = httpLoggingParams(root, secretScrubber([config.adminToken]));
  const logger = new Logger(new PinoLogger(params), params);
  loggingParams.set(logger, params);
  return logger;
}

/** Builds the app, connected and migrated, but not yet listening. `false` logs nothing (tests). */
export async function createApp(config: AppConfig, logger: LoggerService | false = createLogger(config)): Promise<NestFastifyApplication> {
  const httpLogging =
    (logger ? loggingParams.get(logger) : undefined) ?? httpLoggingParams(createRootLogger({ level: logger ? config.logLevel : 'silent', format: config.logFormat }));
  const http = resolveHttpOptions(config.http);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config, {}, { httpLogging }), createHttpAdapter(http), {
    logger,
    abortOnError: false,
    // Body parsing is ours (see configureHttpApp): malformed JSON must name the body.
    bodyParser: false,
  });
  configureHttpApp(app, { adminToken: config.adminToken });
  instrumentHttp(app);
  recordRoutes(app);
  setupOpenApi(app, { rateLimit: http.rateLimit });
  app.useWebSocketAdapter(new WsAdapter(app));
  await app.init();
  return app;
}

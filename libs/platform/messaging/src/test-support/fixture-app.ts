// Boots the fixture modules as an app context (or a Fastify HTTP app when controllers are given).
import { Global, Module, type DynamicModule, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DatabaseModule, type DatabaseConfig } from '@modulith/database';
import type { MessagingConfig } from '../messaging.config';
import { MessagingModule } from '../messaging.module';
import type { Transport } from '../transport/transport';
import { CONTROL, FixtureControl } from './fixture-events';
import { AlphaSubscriber, BetaSubscriber, consumerModule, Producer, ProducerModule, ThingObserver } from './fixture-modules';

export interface FixtureAppOptions {
  database: DatabaseConfig;
  messaging?: Partial<MessagingConfig>;
  /** The platform as the app registers it, instead of `MessagingModule.forRoot(messaging)` (e.g. `forRootAsync`). */
  messagingModule?: DynamicModule;
  /** An event transport of the test's own, for `MessagingModule.forRoot({ transport })`. */
  transport?: Transport;
  /** Which subscribing modules this app hosts (default both). */
  consumers?: ('alpha' | 'beta')[];
  control?: FixtureControl;
  logger?: false | ('error' | 'warn' | 'log')[];
  /** Controllers to mount on the root module; the app is then an HTTP app (Fastify). */
  controllers?: Type[];
  /** More modules for the root to import. */
  imports?: (Type | DynamicModule)[];
  /** Leave out CqrsModule.forRoot(), to see the error. */
  withoutCqrs?: boolean;
}

/** Boots an app context with the producer and the chosen consumers. */
export async function createFixtureApp(options: FixtureAppOptions): Promise<{ app: INestApplicationContext; control: FixtureControl; producer: Producer }> {
  const control = options.control ?? new FixtureControl();
  const consumers = options.consumers ?? ['alpha', 'beta'];
  // Global, so the control token reaches the consumer modules.
  @Global()
  @Module({
    imports: [
      DatabaseModule.forRoot(options.database),
      ...(options.withoutCqrs ? [] : [CqrsModule.forRoot()]),
      options.messagingModule ?? MessagingModule.forRoot({ ...options.messaging, transport: options.transport }),
      ProducerModule,
      ...(consumers.includes('alpha') ? [consumerModule('alpha', AlphaSubscriber)] : []),
      ...(consumers.includes('beta') ? [consumerModule('beta', BetaSubscriber)] : []),
      ...(options.imports ?? []),
    ],
    providers: [{ provide: CONTROL, useValue: control }, ...(consumers.length > 0 ? [ThingObserver] : [])],
    exports: [CONTROL],
    controllers: options.controllers ?? [],
  })
  class FixtureRootModule {}
  const nestOptions = { logger: options.logger ?? ['error' as const], abortOnError: false };
  let app: INestApplicationContext;
  if (options.controllers?.length) {
    const http = await NestFactory.create<NestFastifyApplication>(FixtureRootModule, new FastifyAdapter(), nestOptions);
    await http.init();
    await http.getHttpAdapter().getInstance().ready();
    app = http;
  } else {
    app = await NestFactory.createApplicationContext(FixtureRootModule, nestOptions);
  }
  return { app, control, producer: app.get(Producer, { strict: false }) };
}

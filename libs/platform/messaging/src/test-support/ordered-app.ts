// Boots the ordered fixtures (producer and chosen consumers) as an app context.
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { DatabaseModule, type DatabaseConfig } from '@modulith/database';
import type { MessagingConfig } from '../messaging.config';
import { MessagingModule } from '../messaging.module';
import { OrderedControl, type OrderedConsumer } from './ordered-events';
import { OrderedProducer, orderedFixtureModules } from './ordered-modules';

export interface OrderedAppOptions {
  database: DatabaseConfig;
  messaging?: Partial<MessagingConfig>;
  /** Subscribing modules hosted here (default serial and batched). */
  consumers?: readonly OrderedConsumer[];
  /** Share one between apps so they agree on what fails. */
  control?: OrderedControl;
  logger?: false | ('error' | 'warn' | 'log')[];
}

export interface OrderedApp {
  app: INestApplicationContext;
  control: OrderedControl;
  producer: OrderedProducer;
}

export async function createOrderedApp(options: OrderedAppOptions): Promise<OrderedApp> {
  const control = options.control ?? new OrderedControl();
  @Module({
    imports: [
      DatabaseModule.forRoot(options.database),
      CqrsModule.forRoot(),
      MessagingModule.forRoot(options.messaging),
      ...orderedFixtureModules(control, options.consumers ?? ['serial', 'batched']),
    ],
  })
  class OrderedRootModule {}
  const app = await NestFactory.createApplicationContext(OrderedRootModule, { logger: options.logger ?? ['error'], abortOnError: false });
  return { app, control, producer: app.get(OrderedProducer, { strict: false }) };
}

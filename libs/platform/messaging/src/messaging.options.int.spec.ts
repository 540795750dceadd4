import { Injectable, Module } from '@nestjs/common';
import { ConfigurationError } from '@modulith/core';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { MESSAGING_CONFIG, type MessagingConfig } from './messaging.config';
import { MessagingModule } from './messaging.module';
import { createFixtureApp } from './test-support/fixture-app';
import { FixtureControl, payloads } from './test-support/fixture-events';
import { messagingTestConfig } from './testing';

/** Stands in for a host app's own configuration service (say, @nestjs/config's ConfigService). */
@Injectable()
class HostSettings {
  readonly relayBatchSize = 7;
}

@Module({ providers: [HostSettings], exports: [HostSettings] })
class HostSettingsModule {}

/** Variables the library would choke on if it read them; it must not. */
const GARBAGE = { RELAY_BATCH_SIZE: 'garbage', EVENT_TRANSPORT: 'kafka', HANDLER_TIMEOUT_MS: '-1', RELAY_ENABLED: 'maybe', REDIS_URL: 'nope' };

describe('MessagingModule.forRootAsync (real PostgreSQL)', () => {
  let db: TestDatabase;
  const saved = { ...process.env };

  beforeAll(async () => {
    db = await createTestDatabase('messaging_options');
    Object.assign(process.env, GARBAGE);
  });

  afterAll(async () => {
    process.env = { ...saved };
    await db?.drop();
  });

  it('takes its options from a factory with imports and inject, ignores the environment, and delivers', async () => {
    const control = new FixtureControl();
    const { app, producer } = await createFixtureApp({
      database: databaseTestConfig(db.url),
      control,
      messagingModule: MessagingModule.forRootAsync({
        imports: [HostSettingsModule],
        useFactory: async (settings: HostSettings) => messagingTestConfig({ relayBatchSize: settings.relayBatchSize }),
        inject: [HostSettings],
      }),
    });
    try {
      expect(app.get<MessagingConfig>(MESSAGING_CONFIG, { strict: false })).toMatchObject({ relayBatchSize: 7, eventTransport: 'inprocess', relayEnabled: true, handlerTimeoutMs: 5000 });
      await producer.publish(payloads(1, 3));
      await eventually(() => ['t1', 't2', 't3'].every((label) => control.attempts.has(`alpha:${label}`) && control.attempts.has(`beta:${label}`)), {
        message: 'both subscribers to see the three events',
      });
    } finally {
      await app.close();
    }
  });

  it('refuses a bad option from the factory at start, naming the option', async () => {
    const starting = createFixtureApp({
      database: databaseTestConfig(db.url),
      logger: false,
      messagingModule: MessagingModule.forRootAsync({ useFactory: () => ({ ...messagingTestConfig(), relayBatchSize: 0 }) }),
    });
    await expect(starting).rejects.toThrow(ConfigurationError);
    await expect(starting).rejects.toThrow('MessagingModule option relayBatchSize must be an integer between 1 and 10000, got 0');
  });
});

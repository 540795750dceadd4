import type { INestApplicationContext } from '@nestjs/common';
import { Database } from '@modulith/database';
import { databaseTestConfig } from '@modulith/database/testing';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads } from '../test-support/fixture-events';

/**
 * `ioredis` is an optional peer of `@modulith/messaging`: an app on the in-process transport must
 * start and deliver without it installed. Here any load of it throws, as a missing package would.
 */
jest.mock('ioredis', () => {
  throw new Error('ioredis was loaded by an app on the in-process transport');
});

describe('an app on the in-process transport needs no ioredis (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext | undefined;

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('starts, relays and applies events without loading the Redis client', async () => {
    db = await createTestDatabase('optional_redis');
    const started = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig(), consumers: ['alpha'] });
    app = started.app;
    const ids = await started.producer.publish(payloads(1, 3));
    const database = app.get(Database);
    await eventually(async () => (await database.dataSource.query('SELECT count(*)::int AS n FROM alpha.effects'))[0].n === ids.length, {
      message: 'alpha to apply the three events',
    });
  });
});

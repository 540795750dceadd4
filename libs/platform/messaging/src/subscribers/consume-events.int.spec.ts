import type { INestApplicationContext } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigurationError } from '@modulith/core';
import { Database } from '@modulith/database';
import { databaseTestConfig } from '@modulith/database/testing';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { resolveMessagingConfig } from '../messaging.config';
import { messagingTestConfig } from '../messaging-test-config';
import { createFixtureApp } from '../test-support/fixture-app';
import { FixtureControl, payloads } from '../test-support/fixture-events';

/**
 * A CLI command (migrate, verify, dead letters, outbox) loads the modules for their tables and
 * queries with `consumeEvents: false`: their handlers must never run there, beside the app. Here
 * an event waits in `messaging.retries` when such a process starts: it must leave it alone.
 */
describe('consumeEvents: false (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('consume_events');
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const count = async (sql: string): Promise<number> => (await app!.get(Database).dataSource.query(sql))[0].n;
  const effects = () => count('SELECT count(*)::int AS n FROM alpha.effects');
  const waiting = () => count('SELECT count(*)::int AS n FROM messaging.retries');
  const start = async (messaging: Parameters<typeof messagingTestConfig>[0], control = new FixtureControl()) => {
    const started = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig(messaging), consumers: ['alpha'], control });
    app = started.app;
    return started.producer;
  };

  it('refuses a relay in a process that consumes nothing (it would pass events to subscribers that never run)', () => {
    expect(() => resolveMessagingConfig({ consumeEvents: false })).toThrow(ConfigurationError);
    expect(() => resolveMessagingConfig({ consumeEvents: false })).toThrow(/consumeEvents false needs relayEnabled: false/);
  });

  it('applies nothing, not even a due retry, in a process that consumes nothing; a consuming one applies it once', async () => {
    const failing = new FixtureControl();
    failing.poison.alpha.add('t3');
    const producer = await start({ retryBaseDelayMs: 2000, retryMaxDelayMs: 2000 }, failing);
    await producer.publish(payloads(1, 3));
    await eventually(async () => (await effects()) === 2 && (await waiting()) === 1, { message: 't1, t2 applied and t3 waiting for its retry' });
    await app!.close();

    await start({ consumeEvents: false, relayEnabled: false, registerInstance: false });
    await sleep(3000); // t3's retry fell due after 2 s; a poller here would take it within 100 ms
    expect(await effects()).toBe(2);
    expect(await waiting()).toBe(1);
    await app!.close();

    await start({ relayEnabled: false });
    await eventually(async () => (await effects()) === 3, { message: 'the consuming process to apply t3' });
    await sleep(300);
    expect(await effects()).toBe(3);
  });
});

import type { INestApplicationContext } from '@nestjs/common';
import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { createFixtureApp, type FixtureAppOptions } from '../test-support/fixture-app';
import { payloads } from '../test-support/fixture-events';
import { messagingTestConfig } from '../testing';
import { MessagingTopology } from './messaging-topology';

// Several fixture apps on one database stand for several processes: each registers its own
// instance row, exactly as separate processes do (the same pid is never taken for a dead one).
describe('MessagingTopology: the in-process transport never deletes what a subscriber elsewhere has not seen (real PostgreSQL)', () => {
  let db: TestDatabase;
  const apps: INestApplicationContext[] = [];
  const config = (overrides = {}) => messagingTestConfig({ heartbeatIntervalMs: 100, instanceExpiryMs: 1000, ...overrides });
  const start = async (options: Omit<FixtureAppOptions, 'database'>) => {
    const started = await createFixtureApp({ database: databaseTestConfig(db.url), ...options });
    apps.push(started.app);
    return started;
  };
  const sql = sqlOneShot(() => db.url);
  const count = async (table: string): Promise<number> => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0].n);

  beforeEach(async () => {
    db = await createTestDatabase('topology');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await db?.drop();
  });

  it('pauses a relay without the subscribers once a process hosting them starts, which then delivers everything', async () => {
    const producerOnly = await start({ messaging: config(), consumers: [] });
    const consumers = await start({ messaging: config(), consumers: ['alpha', 'beta'] });
    const topology = producerOnly.app.get(MessagingTopology);
    await eventually(() => !topology.status().ok, { message: 'the producer-only relay to see the consumers' });
    expect(topology.status().problems.join()).toContain("eventTransport: 'redis'");
    expect(consumers.app.get(MessagingTopology).status().ok).toBe(true);

    await producerOnly.producer.publish(payloads(1, 20));
    await eventually(async () => (await count('alpha.effects')) === 20 && (await count('beta.effects')) === 20, { message: 'all 20 events applied by both' });
    expect(await count('messaging.outbox')).toBe(0);
  }, 30_000);

  it('refuses a relaying process that lacks subscribers registered on the database, even after their process stopped', async () => {
    const consumers = await start({ messaging: config(), consumers: ['alpha', 'beta'] });
    await expect(start({ messaging: config(), consumers: [] })).rejects.toThrow(/does not host the durable .*eventTransport: 'redis'/);
    await consumers.app.close();
    apps.splice(apps.indexOf(consumers.app), 1);
    await expect(start({ messaging: config(), consumers: ['alpha'] })).rejects.toThrow(/module\(s\) beta/);
    // Not relaying, it deletes nothing: it may run, and its events wait for a relay with every subscriber.
    const producer = await start({ messaging: config({ relayEnabled: false }), consumers: [] });
    await producer.producer.publish(payloads(1, 5));
    expect(await count('messaging.outbox')).toBe(5);
  }, 30_000);

  it('refuses a second relaying instance while best-effort subscribers run, and a best-effort host that does not relay', async () => {
    await start({ messaging: config(), consumers: ['alpha', 'beta'] });
    await expect(start({ messaging: config(), consumers: ['alpha', 'beta'] })).rejects.toThrow(/best-effort subscriber\(s\) beta.BetaSubscriber.watch/);
    await expect(start({ messaging: config({ relayEnabled: false }), consumers: ['alpha', 'beta'] })).rejects.toThrow(/does not relay/);
    expect(await count('messaging.instances')).toBe(1);
  }, 30_000);

  it('refuses mixed transports on one database', async () => {
    await start({ messaging: config(), consumers: [] });
    await expect(start({ messaging: config({ eventTransport: 'redis', redisUrl: 'redis://127.0.0.1:6379' }), consumers: [] })).rejects.toThrow(
      /same EVENT_TRANSPORT/,
    );
  }, 30_000);
});

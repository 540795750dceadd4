// The LISTEN connection comes back on both channels after it was killed (real PostgreSQL): every
// poll is a minute away, so only the notifications on modulith_outbox (the relaying process learns
// of the reader's commit) and modulith_event_log (the reader learns of the claim) deliver in time.
import type { INestApplicationContext } from '@nestjs/common';
import { Database } from '@modulith/database';
import { databaseTestConfig } from '@modulith/database/testing';
import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { Relay } from '../relay/relay';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads } from '../test-support/fixture-events';
import { InProcessTransport } from '../transport/in-process.transport';

describe('LISTEN connection terminated, then back on both channels (real PostgreSQL)', () => {
  let db: TestDatabase;
  const apps: INestApplicationContext[] = [];

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await db?.drop();
  });

  const sql = sqlOneShot(() => db.url);
  const listeners = async (): Promise<number[]> =>
    (await sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'modulith-relay-listener'`)).map((row) => row.pid);

  it('wakes the other relay and the log readers again once it reconnected', async () => {
    db = await createTestDatabase('log_wake_reconnect');
    const slow = messagingTestConfig({ relayPollIntervalMs: 60_000, logLeaseMs: 120_000 });
    const reader = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: slow, consumers: ['alpha'] });
    apps.push(reader.app);
    const readerTransport = reader.app.get(InProcessTransport, { strict: false });
    await eventually(async () => readerTransport.appendedTypes().length > 0, { message: "the reader's log readers to hold their cursors" });
    await reader.app.get(Relay, { strict: false }).stop();
    const relaying = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: slow, consumers: ['alpha'] });
    apps.push(relaying.app);

    const before = await listeners();
    expect(before).toHaveLength(2);
    await sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1)', [before]);
    await eventually(async () => {
      const now = await listeners();
      return now.length === 2 && now.every((pid) => !before.includes(pid));
    }, { message: 'both LISTEN connections to come back' });

    const effects = async (): Promise<number> => (await reader.app.get(Database).dataSource.query('SELECT count(*)::int AS n FROM alpha.effects'))[0].n;
    // The reader commits; the relaying process claims on its notification, the reader reads on the claim's.
    await reader.producer.publish(payloads(0, 3));
    await eventually(async () => (await effects()) === 3, { message: 'the reader to apply the three events it published', timeoutMs: 5000 });
    await relaying.producer.publish(payloads(3, 2));
    await eventually(async () => (await effects()) === 5, { message: 'the reader to apply the two events the other process published', timeoutMs: 5000 });
  }, 30_000);
});

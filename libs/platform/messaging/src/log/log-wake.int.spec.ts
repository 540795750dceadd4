// Log readers learn of other processes' claims at once (real PostgreSQL): a relay NOTIFYs after
// its claims appended to the event log, and the log readers of the process that holds their
// cursors look then, not at their next poll (here a minute away: without the notification the
// events would not arrive within the test). The reading process's relay is stopped, or off
// (RELAY_ENABLED=false: it may still hold its subscribers' cursors).
import type { INestApplicationContext } from '@nestjs/common';
import { Database } from '@modulith/database';
import { databaseTestConfig } from '@modulith/database/testing';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { Relay } from '../relay/relay';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads } from '../test-support/fixture-events';
import { InProcessTransport } from '../transport/in-process.transport';

describe("log readers woken by another process's claims (real PostgreSQL)", () => {
  let db: TestDatabase;
  const apps: INestApplicationContext[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await db?.drop();
  });

  it.each([true, false])('hands over events another process relayed without waiting for the poll interval (reader relayEnabled: %s)', async (relayEnabled) => {
    db = await createTestDatabase('log_wake');
    // Leases long enough that the reader holding the cursors keeps them while it sleeps.
    const reader = await createFixtureApp({
      database: databaseTestConfig(db.url),
      messaging: messagingTestConfig({ relayPollIntervalMs: 60_000, logLeaseMs: 120_000, relayEnabled }),
      consumers: ['alpha'],
    });
    apps.push(reader.app);
    const readerTransport = reader.app.get(InProcessTransport, { strict: false });
    await eventually(async () => readerTransport.appendedTypes().length > 0, { message: "the reader's log readers to hold their cursors" });
    // This process only reads: the other one relays.
    await reader.app.get(Relay, { strict: false }).stop();

    const relaying = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig({ logLeaseMs: 120_000 }), consumers: ['alpha'] });
    apps.push(relaying.app);
    const ids = await relaying.producer.publish(payloads(0, 3));

    const database = reader.app.get(Database);
    await eventually(async () => (await database.dataSource.query('SELECT count(*)::int AS n FROM alpha.effects'))[0].n === ids.length, {
      message: "the reader process's alpha subscriber to apply the three events the other process relayed",
    });
    expect(relaying.app.get(InProcessTransport, { strict: false }).appendedTypes()).toEqual([]);
  });
});

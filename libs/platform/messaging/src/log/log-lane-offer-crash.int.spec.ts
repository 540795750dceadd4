// A claim offered in memory that the database then lost (a server of one's own, crashed). The
// relay commits its claims asynchronously: a crash can take back a claim whose rows the log
// readers here were already offered, and the log's position sequence with it, so the same
// positions go to the next claim, which may hold more events. A reader that kept the lost claim
// must not take it as that later claim: every event still arrives, once.
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { databaseTestConfig } from '@modulith/database/testing';
import { eventually } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { Relay } from '../relay/relay';
import { recordAppendedClaims } from '../test-support/appended-claims';
import { createFixtureApp } from '../test-support/fixture-app';
import { FixtureControl, payloads } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { PrivatePostgres } from '../test-support/private-postgres';
import type { AppendedClaim } from './event-log';

// Fixed, away from the shared servers' ports (a kernel-picked one could be another test server's).
const PORT = 55511;

describe('LogLane: an offered claim the database lost in a crash (own PostgreSQL)', () => {
  let server: PrivatePostgres;
  let app: INestApplicationContext | undefined;
  let admin: Client | undefined;

  beforeAll(() => {
    server = new PrivatePostgres(PORT);
    server.init();
  });

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    await admin?.end().catch(() => undefined);
    server?.destroy();
  });

  const connect = async (): Promise<Client> => {
    const client = new Client({ connectionString: server.url });
    await client.connect();
    client.on('error', () => undefined);
    return client;
  };

  /** Retries `work` while the server comes back (pooled connections it killed fail once). */
  const once = async <T>(work: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };

  it('reads the log again instead of taking a kept claim whose positions a later claim took', async () => {
    const control = new FixtureControl();
    // The first event's handler hangs (until its timeout): the lane is busy while the next claim is offered, so it keeps it.
    control.hang.add('a0');
    const messaging = messagingTestConfig({ logLeaseMs: 60_000, handlerTimeoutMs: 6000, heartbeatIntervalMs: 60_000, instanceExpiryMs: 120_000 });
    const started = await createFixtureApp({ database: databaseTestConfig(server.url), messaging, consumers: ['alpha'], control, logger: false });
    app = started.app;
    const producer: Producer = started.producer;
    const claims: AppendedClaim[] = [];
    recordAppendedClaims(app, claims);
    const claimOf = (label: string): AppendedClaim | undefined => claims.find((claim) => claim.entries.some((row) => row.events.includes(`"${label}"`)));
    admin = await connect();

    await producer.publish(payloads(0, 1, () => 'a0'));
    await eventually(async () => control.attempts.has('alpha:a0'), { message: 'alpha to be handling a0' });
    // The next claim's position is the first the sequence gives out after this checkpoint: it
    // is WAL-logged with the claim, and lost with it.
    await admin.query('CHECKPOINT');
    await producer.publish(payloads(1, 3, (seq) => `b${seq}`));
    await eventually(async () => claimOf('b1') !== undefined, { message: 'the claim of the b events to be offered' });
    const lost = claimOf('b1') as AppendedClaim;
    // The relay stays away until events committed after the crash are in the outbox beside the
    // lost ones (in production its retries after the outage race the new commits just so).
    await app.get(Relay, { strict: false }).stop();

    await admin.end();
    server.crash();
    server.start();
    admin = await connect();
    // The crash lost the claim (its commit was asynchronous): none of its rows is in the log.
    expect(Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM messaging.event_log WHERE position >= $1', [lost.first])).rows[0].n)).toBe(0);

    control.hang.delete('a0');
    await once(() => producer.publish(payloads(4, 2, (seq) => `c${seq}`)));
    app.get(Relay, { strict: false }).start();
    await eventually(async () => claimOf('c4') !== undefined, { message: 'the claim of the c events to be offered' });
    // The crash gave the lost claim's positions to the claim after it, which holds more events.
    expect(claimOf('c4')?.first).toBe(lost.first);

    const applied = async (): Promise<string[]> =>
      (await admin?.query<{ label: string }>('SELECT label FROM alpha.effects ORDER BY label'))?.rows.map((row) => row.label) ?? [];
    await eventually(async () => (await applied()).length >= 6, {
      timeoutMs: 20_000,
      message: 'alpha to apply a0, b1..b3 and c4, c5',
      describe: async () => `applied ${JSON.stringify(await applied())}`,
    });
    expect(await applied()).toEqual(['a0', 'b1', 'b2', 'b3', 'c4', 'c5']);
  }, 60_000);
});

// Log readers across a crash of PostgreSQL (a server of the test's own) that loses what its WAL
// buffers held. A log reader keeps positions in memory: its cursor, and claims its relay offered
// it. A claim it knows of must not be lost by the crash: the position sequence would go back with
// it, and the next claim, holding other events, would take the same positions, which the reader
// then takes for rows it has (an offered claim) or has passed (its cursor). Every event still
// arrives, once.
import type { INestApplicationContext } from '@nestjs/common';
import type { Client } from 'pg';
import { databaseTestConfig } from '@modulith/database/testing';
import { eventually } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { Relay } from '../relay/relay';
import { recordAppendedClaims } from '../test-support/appended-claims';
import { createFixtureApp } from '../test-support/fixture-app';
import { FixtureControl, NothingHappened, payloads } from '../test-support/fixture-events';
import { onceServerIsBack, PrivatePostgres } from '../test-support/private-postgres';
import { RecordingSubscription } from '../test-support/recording-subscription';
import { EventLog, type AppendedClaim } from './event-log';
import { LogLane } from './log-lane';

// Fixed, away from the shared servers' ports (a kernel-picked one could be another test server's).
const PORT = 55511;
/** Nothing renews a lease or polls on its own while a test holds the WAL writer (a synchronous commit would write the WAL out). */
const QUIET = { logLeaseMs: 60_000, handlerTimeoutMs: 6000, heartbeatIntervalMs: 60_000, instanceExpiryMs: 120_000 };

describe('log readers across a PostgreSQL crash that loses the last commits (own server)', () => {
  let server: PrivatePostgres;
  const apps: INestApplicationContext[] = [];
  const lanes: LogLane[] = [];
  let admin: Client | undefined;

  beforeAll(async () => {
    server = new PrivatePostgres(PORT);
    await server.init();
  });

  afterEach(async () => {
    await Promise.all(lanes.splice(0).map((lane) => lane.stop().catch(() => undefined)));
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
    await admin?.end().catch(() => undefined);
  });

  afterAll(() => server?.destroy());

  const start = async (database: string, control: FixtureControl, messaging: Parameters<typeof messagingTestConfig>[0]) => {
    const started = await createFixtureApp({ database: databaseTestConfig(database), messaging: messagingTestConfig({ ...QUIET, ...messaging }), consumers: ['alpha'], control, logger: false });
    apps.push(started.app);
    return started;
  };

  /** Crashes the server; `admin` is connected to `database` again once it is back. */
  const crash = async (database: string): Promise<void> => {
    await admin?.end();
    await server.crash();
    admin = await server.connect(database);
  };

  const claimOf = (claims: readonly AppendedClaim[], label: string): AppendedClaim | undefined =>
    claims.find((claim) => claim.entries.some((row) => row.events.includes(`"${label}"`)));

  it('a claim offered while the reader was busy, then lost: the reader does not take it for the claim given its positions', async () => {
    const url = await server.createDatabase('offered');
    const control = new FixtureControl();
    // The first event's handler hangs (until its timeout): the reader is busy while the next claim is offered, so it keeps it.
    control.hang.add('a0');
    const { app, producer } = await start(url, control, {});
    const claims: AppendedClaim[] = [];
    recordAppendedClaims(app, claims);
    admin = await server.connect('offered');

    await producer.publish(payloads(0, 1, () => 'a0'));
    await eventually(async () => control.attempts.has('alpha:a0'), { message: 'alpha to be handling a0' });
    // The next claim's position is the first the sequence gives out after this checkpoint: it is
    // WAL-logged with the claim, and gone with it if the claim is.
    await admin.query('CHECKPOINT');
    await server.holdAsyncCommits();
    await producer.publish(payloads(1, 3, (seq) => `b${seq}`));
    await eventually(async () => claimOf(claims, 'b1') !== undefined, { message: 'the claim of the b events to be offered' });
    // The relay stays away until events committed after the crash are in the outbox beside the
    // b events (in production its retries after the outage race the new commits just so).
    await app.get(Relay, { strict: false }).stop();

    await crash('offered');
    control.hang.delete('a0');
    await onceServerIsBack(() => producer.publish(payloads(4, 2, (seq) => `c${seq}`)));
    app.get(Relay, { strict: false }).start();

    const applied = async (): Promise<string[]> => (await admin?.query<{ label: string }>('SELECT label FROM alpha.effects ORDER BY label'))?.rows.map((row) => row.label) ?? [];
    await eventually(async () => (await applied()).length >= 6, {
      timeoutMs: 20_000,
      message: 'alpha to apply a0, b1..b3 and c4, c5',
      describe: async () => `applied ${JSON.stringify(await applied())}; claims (first, last) ${JSON.stringify(claims.map((claim) => [claim.first, claim.last]))}`,
    });
    expect(await applied()).toEqual(['a0', 'b1', 'b2', 'b3', 'c4', 'c5']);
  }, 60_000);

  it('claims of another type a reader passed, then lost: the reader reads the positions the next claims are given', async () => {
    const url = await server.createDatabase('passed');
    const control = new FixtureControl();
    // alpha's handler hangs on t1 (the claims' events): no handler commit writes the claims out.
    control.hang.add('t1');
    // One relay claims one event at a time; the other, started after the crash, all at once.
    const one = await start(url, control, { relayBatchSize: 1 });
    const all = await start(url, control, { relayBatchSize: 100, relayPollIntervalMs: 60_000 });
    await all.app.get(Relay, { strict: false }).stop();
    const claims: AppendedClaim[] = [];
    recordAppendedClaims(one.app, claims);
    // A reader of another type, woken only by the test.
    const log = one.app.get(EventLog, { strict: false });
    await log.register([{ subscriber: 'test.other', eventType: NothingHappened.type }]);
    const recorder = new RecordingSubscription({ subscriber: 'test.other', eventType: NothingHappened.type });
    const lane = new LogLane(recorder, { log, pollIntervalMs: 60_000, leaseMs: 60_000, advanced: () => undefined });
    lanes.push(lane);
    lane.start();
    const head = await log.head();
    await eventually(() => lane.position === head && !lane.busy, { message: 'the reader to catch up' });
    admin = await server.connect('passed');

    await admin.query('CHECKPOINT');
    await server.holdAsyncCommits();
    await one.producer.publish(payloads(1, 2));
    await eventually(() => claims.length >= 2, { message: 'two claims of one event each' });
    await one.app.get(Relay, { strict: false }).stop();
    const passed = claims[1].last;
    lane.wake();
    await eventually(() => lane.position === passed, { message: 'the reader to pass both claims' });

    await crash('passed');
    await onceServerIsBack(() => one.producer.publishOther(1));
    all.app.get(Relay, { strict: false }).start();
    await eventually(async () => Number((await admin?.query<{ n: string }>('SELECT count(*) AS n FROM messaging.outbox'))?.rows[0].n) === 0, { message: 'the outbox to be relayed' });

    const logRows = async (): Promise<string> => JSON.stringify((await admin?.query('SELECT position, type, count FROM messaging.event_log ORDER BY position'))?.rows);
    await eventually(
      () => {
        lane.wake();
        return recorder.deliveries.length > 0;
      },
      { timeoutMs: 10_000, message: 'the reader to get the event published after the crash', describe: async () => `reader at ${lane.position}; log ${await logRows()}` },
    );
    expect(recorder.deliveries).toHaveLength(1);
  }, 60_000);
});

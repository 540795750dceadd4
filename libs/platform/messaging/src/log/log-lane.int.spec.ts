// The log reader's `redelivered` flag (real PostgreSQL): a subscriber skips its inbox look-up
// only for rows no one can have handed it before. Whatever may have been handed over before a
// failure, by a holder that died, or by another process that held the cursor meanwhile, goes as
// possibly redelivered, so the subscriber looks it up and does not run its handler again.
import type { INestApplicationContext } from '@nestjs/common';
import { Database } from '@modulith/database';
import { databaseTestConfig } from '@modulith/database/testing';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads, ThingHappened } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { RecordingSubscription } from '../test-support/recording-subscription';
import { settles } from '../test-support/settles';
import { relayAll } from '../testing';
import { EventLog } from './event-log';
import { LogLane } from './log-lane';

const SUBSCRIBER = 'test.recorder';
/** The owner id of a process other than the test's lanes. */
const OTHER_PROCESS = '00000000-0000-7000-8000-00000000dead';


describe('LogLane: which rows go as possibly redelivered (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let producer: Producer;
  let log: EventLog;
  const lanes: LogLane[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('log_lane');
    ({ app, producer } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig(), consumers: ['alpha'] }));
    log = app.get(EventLog, { strict: false });
  });

  afterEach(async () => {
    await Promise.all(lanes.splice(0).map((lane) => lane.stop()));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  let nextSeq = 0;
  /** Publishes `count` events and relays them into the log; returns their labels. */
  const written = async (count: number): Promise<string[]> => {
    const batch = payloads(nextSeq, count, (seq) => `e${seq}`);
    nextSeq += count;
    await producer.publish(batch);
    await relayAll(app);
    return batch.map((payload) => payload.label);
  };
  const startLane = (recorder: RecordingSubscription): LogLane => {
    const lane = new LogLane(recorder, { log, pollIntervalMs: 50, leaseMs: 2000, advanced: () => undefined });
    lanes.push(lane);
    lane.start();
    return lane;
  };
  const cursorAtHead = async (): Promise<boolean> =>
    (
      await app.get(Database).dataSource.query(
        'SELECT c.position >= (SELECT max(position) FROM messaging.event_log) AS at_head FROM messaging.log_cursors c WHERE c.subscriber = $1',
        [SUBSCRIBER],
      )
    )[0].at_head;
  const cursor = async (): Promise<{ owner: string | null }> =>
    (await app.get(Database).dataSource.query('SELECT owner FROM messaging.log_cursors WHERE subscriber = $1', [SUBSCRIBER]))[0];

  it('a lane that takes the cursor hands over what was in the log as possibly redelivered, and what is written after as first deliveries', async () => {
    await log.register([{ subscriber: SUBSCRIBER, eventType: ThingHappened.type }]);
    const before = await written(3);
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
    startLane(recorder);
    await settles(() => expect(recorder.labels()).toEqual(before));
    expect(recorder.deliveries.every((delivery) => delivery.redelivered === true)).toBe(true);

    const after = await written(2);
    await settles(() => expect(recorder.firstDeliveries()).toEqual(after));
  });

  it('after a failed delivery the same rows go again as possibly redelivered; later rows do not', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
    startLane(recorder);
    await settles(async () => expect((await cursor()).owner).not.toBeNull());
    recorder.failNext = 1;
    const failed = await written(2);
    await settles(() => expect(recorder.deliveries.map((delivery) => delivery.labels)).toEqual([failed, failed]));
    expect(recorder.deliveries.map((delivery) => delivery.redelivered)).toEqual([false, true]);

    const after = await written(2);
    await settles(() => expect(recorder.firstDeliveries()).toEqual([...failed, ...after]));
  });

  it('after another process held the cursor meanwhile, the rows up to the head go as possibly redelivered', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
    const lane = startLane(recorder);
    await settles(() => expect(lane.holdsCursor).toBe(true));
    const first = await written(1);
    await settles(() => expect(recorder.firstDeliveries()).toEqual(first));
    // Its cursor past that row before the other process comes (else the row is read again, rightly as possibly redelivered).
    await settles(async () => expect(await cursorAtHead()).toBe(true));
    // Another process takes the cursor over (as if this lane's lease had run out) ...
    const setLease = (until: string) =>
      app.get(Database).dataSource.query(`UPDATE messaging.log_cursors SET owner = $2, lease_until = clock_timestamp() + interval '${until}' WHERE subscriber = $1`, [
        SUBSCRIBER,
        OTHER_PROCESS,
      ]);
    await setLease('1 hour');
    await settles(() => expect(lane.holdsCursor).toBe(false));
    // ... maybe hands over rows written meanwhile without passing them, and dies: its lease runs out.
    const meanwhile = await written(3);
    await setLease('-1 second');
    await settles(() => expect(recorder.deliveries.slice(1).flatMap((delivery) => delivery.labels)).toEqual(meanwhile));
    expect(recorder.deliveries.slice(1).every((delivery) => delivery.redelivered === true)).toBe(true);

    const after = await written(1);
    await settles(() => expect(recorder.firstDeliveries()).toEqual([...first, ...after]));
  });
});

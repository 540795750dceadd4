// A lane renews its cursor lease while it works through a read, however many batches the read
// makes (real PostgreSQL): a read of many short batches must not let the lease run out, or a
// second process takes the cursor over from a healthy holder and both hand the same events over.
import type { INestApplicationContext } from '@nestjs/common';
import { databaseTestConfig } from '@modulith/database/testing';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads, ThingHappened } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { RecordingSubscription } from '../test-support/recording-subscription';
import { relayAll } from '../testing';
import { EventLog } from './event-log';
import { LogLane } from './log-lane';

const SUBSCRIBER = 'test.slow-recorder';
const LEASE_MS = 600;
/** Shorter than a renewal interval (a third of the lease), so no renewal fires inside one batch. */
const BATCH_MS = 120;

describe('LogLane: the lease is renewed while a read is handed over (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let producer: Producer;
  let log: EventLog;
  const lanes: LogLane[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('log_lane_lease');
    ({ app, producer } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig(), consumers: ['alpha'] }));
    log = app.get(EventLog, { strict: false });
  });

  afterAll(async () => {
    await Promise.all(lanes.splice(0).map((lane) => lane.stop()));
    await app?.close();
    await db?.drop();
  });

  it('a second process does not take the cursor from a holder working through a read of many short batches', async () => {
    await log.register([{ subscriber: SUBSCRIBER, eventType: ThingHappened.type }]);
    // 16 log rows (one read), each its own batch: 16 x 120 ms, four times the lease.
    const labels: string[] = [];
    for (let seq = 0; seq < 16; seq += 1) {
      const batch = payloads(seq, 1, (n) => `e${n}`);
      await producer.publish(batch);
      await relayAll(app);
      labels.push(batch[0].label);
    }
    const recorders: RecordingSubscription[] = [];
    const lane = () => {
      const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type, maxBatch: 1, delayMs: BATCH_MS });
      recorders.push(recorder);
      const created = new LogLane(recorder, { log, pollIntervalMs: 50, leaseMs: LEASE_MS, advanced: () => undefined });
      lanes.push(created);
      created.start();
      return created;
    };
    const handed = () => recorders.flatMap((recorder) => recorder.labels());
    const first = lane();
    await eventually(async () => (first.holdsCursor && handed().length > 0 ? true : undefined));
    lane();
    await eventually(async () => (new Set(handed()).size === labels.length && first.busy === false ? true : undefined), { timeoutMs: 15_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const handedTwice = labels.filter((label) => handed().filter((each) => each === label).length > 1);
    expect({ handedTwice, bySecondLane: recorders[1].labels() }).toEqual({ handedTwice: [], bySecondLane: [] });
  });
});

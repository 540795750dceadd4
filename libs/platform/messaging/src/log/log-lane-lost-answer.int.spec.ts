// A lane that takes the cursor from another process but never hears back (the client gave up
// on the answer, DB_QUERY_TIMEOUT_MS, while the statement waited for a lock and then committed)
// must still hand the rows the earlier holder may have handed over as possibly redelivered
// (real PostgreSQL). Its next lease finds the row naming it already and says `renewed`, but this
// lane did not hold the cursor in between: the earlier holder did.
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { Database } from '@modulith/database';
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

const SUBSCRIBER = 'test.lost-answer';
/** A process that handed rows over without passing them, then died (its lease ran out). */
const DEAD_PROCESS = '00000000-0000-7000-8000-00000000dead';
const QUERY_TIMEOUT_MS = 300;

describe('LogLane: a take whose answer was lost (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let producer: Producer;
  let log: EventLog;
  let lane: LogLane | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('log_lane_lost_answer');
    ({ app, producer } = await createFixtureApp({
      database: { ...databaseTestConfig(db.url), queryTimeoutMs: QUERY_TIMEOUT_MS },
      messaging: messagingTestConfig(),
      consumers: ['alpha'],
    }));
    log = app.get(EventLog, { strict: false });
  });

  afterAll(async () => {
    await lane?.stop();
    await app?.close();
    await db?.drop();
  });

  it('hands the rows an earlier holder may have handed over as possibly redelivered', async () => {
    await log.register([{ subscriber: SUBSCRIBER, eventType: ThingHappened.type }]);
    const batch = payloads(0, 3, (seq) => `e${seq}`);
    await producer.publish(batch);
    await relayAll(app);
    // The dead process held the cursor (and may have handed these rows over); its lease ran out.
    await app.get(Database).dataSource.query(
      `UPDATE messaging.log_cursors SET owner = $2, lease_until = clock_timestamp() - interval '1 second' WHERE subscriber = $1`,
      [SUBSCRIBER, DEAD_PROCESS],
    );
    // Someone holds the cursor row locked a while (an operator's query, a vacuum, a slow advance):
    // the lane's lease waits longer than the client waits for its answer.
    const locker = new Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT * FROM messaging.log_cursors WHERE subscriber = $1 FOR UPDATE', [SUBSCRIBER]);
      const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
      lane = new LogLane(recorder, { log, pollIntervalMs: 50, leaseMs: 5000, advanced: () => undefined });
      lane.start();
      await new Promise((resolve) => setTimeout(resolve, 3 * QUERY_TIMEOUT_MS));
      await locker.query('COMMIT');
      await eventually(() => (recorder.deliveries.length > 0 ? true : undefined));
      expect(recorder.deliveries[0]).toEqual({ labels: batch.map((payload) => payload.label), redelivered: true });
    } finally {
      await locker.end();
    }
  });
});

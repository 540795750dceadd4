// A log reader takes its relay's claims from memory (real PostgreSQL): only when a claim
// follows its cursor without a gap and holds every row of its types in the claim's span.
// Anything else (rows of another process's claim in between, a claim taken while this reader did
// not hold its cursor, more claims than it keeps) leaves it to read the log: every event arrives,
// once, in log order, whichever way it came.
import type { INestApplicationContext } from '@nestjs/common';
import { databaseTestConfig } from '@modulith/database/testing';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { recordAppendedClaims } from '../test-support/appended-claims';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads, ThingHappened } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { RecordingSubscription } from '../test-support/recording-subscription';
import { relayAll } from '../testing';
import { EventLog, type AppendedClaim } from './event-log';
import { LogLane } from './log-lane';

const SUBSCRIBER = 'test.offered';

/** Waits until `assertion` passes (the last failure in the timeout's message). */
const settles = (assertion: () => unknown): Promise<true> =>
  eventually(async () => {
    await assertion();
    return true as const;
  });

describe('LogLane: claims offered in memory (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let producer: Producer;
  let log: EventLog;
  /** `EventLog.read` calls made by the test's lanes. */
  let reads = 0;
  /** What the app's relay appended, claim by claim (through its transport's `appended`). */
  const claims: AppendedClaim[] = [];
  const lanes: LogLane[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('log_lane_offer');
    ({ app, producer } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig(), consumers: ['alpha'] }));
    log = app.get(EventLog, { strict: false });
    recordAppendedClaims(app, claims);
    await log.register([{ subscriber: SUBSCRIBER, eventType: ThingHappened.type }]);
  });

  afterEach(async () => {
    await Promise.all(lanes.splice(0).map((lane) => lane.stop()));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  let nextSeq = 0;
  /** Publishes `count` events, relays them into the log in one claim; returns their labels and the claim. */
  const written = async (count: number): Promise<{ labels: string[]; claim: AppendedClaim }> => {
    const batch = payloads(nextSeq, count, (seq) => `e${seq}`);
    nextSeq += count;
    const before = claims.length;
    await producer.publish(batch);
    await relayAll(app);
    expect(claims.length).toBe(before + 1);
    return { labels: batch.map((payload) => payload.label), claim: claims[before] };
  };

  /** A lane of the test's subscriber that never polls: it reads the log only when woken or offered claims. */
  const startLane = async (recorder: RecordingSubscription): Promise<LogLane> => {
    const counted = Object.create(log) as EventLog;
    counted.read = (...args) => {
      reads += 1;
      return log.read(...args);
    };
    const lane = new LogLane(recorder, { log: counted, pollIntervalMs: 60_000, leaseMs: 60_000, advanced: () => undefined });
    lanes.push(lane);
    lane.start();
    // Caught up with what earlier tests left in the log: it now waits for a wake-up or an offer.
    const head = await log.head();
    await settles(() => expect(lane.position === head && !lane.busy).toBe(true));
    recorder.deliveries.splice(0);
    return lane;
  };

  it('the relay hands each claim its span and, as the log holds them, the rows of the types read here', async () => {
    const { labels, claim } = await written(3);
    expect(claim.rows).toBe(claim.last - claim.first + 1);
    expect(claim.types).toContain(ThingHappened.type);
    expect(claim.entries.map((row) => row.type)).toEqual([ThingHappened.type]);
    expect((JSON.parse(claim.entries[0].events) as { payload: { label: string } }[]).map((event) => event.payload.label)).toEqual(labels);
  });

  it('takes a claim that follows its cursor from memory, as first deliveries, without reading the log', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
    const lane = await startLane(recorder);
    const readsBefore = reads;
    const { labels, claim } = await written(3);
    lane.offer(claim);
    await settles(() => expect(lane.position).toBe(claim.last));
    expect(recorder.deliveries).toEqual([{ labels, redelivered: false }]);
    expect(reads).toBe(readsBefore);
  });

  it('reads the log for a claim taken while no reader here held its cursor (its rows of this type are not in the claim)', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
    const lane = await startLane(recorder);
    const { labels, claim } = await written(3);
    lane.offer({ ...claim, types: [], entries: [] });
    await settles(() => expect(recorder.labels()).toEqual(labels));
    expect(lane.position).toBe(claim.last);
  });

  it('reads the log when rows it was not offered lie between its cursor and a claim (another process claimed them)', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
    const lane = await startLane(recorder);
    const unseen = await written(2);
    const offered = await written(2);
    lane.offer(offered.claim);
    await settles(() => expect(recorder.labels()).toEqual([...unseen.labels, ...offered.labels]));
    expect(lane.position).toBe(offered.claim.last);
  });

  it('reads the log for a claim whose span holds rows it does not carry', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
    const lane = await startLane(recorder);
    const unseen = await written(2);
    const offered = await written(2);
    // The same rows, claimed as if the span began at the unseen row: not complete, so not taken.
    lane.offer({ ...offered.claim, first: unseen.claim.first });
    await settles(() => expect(recorder.labels()).toEqual([...unseen.labels, ...offered.labels]));
  });

  it('keeps a bounded number of claims while it works, and reads the rest from the log: each event once, in order', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type, delayMs: 1500 });
    const lane = await startLane(recorder);
    const readsBefore = reads;
    const first = await written(1);
    lane.offer(first.claim);
    await settles(() => expect(lane.busy).toBe(true));
    const later: string[] = [];
    for (let claim = 0; claim < 40; claim += 1) {
      const each = await written(1);
      later.push(...each.labels);
      lane.offer(each.claim);
    }
    await settles(() => expect(recorder.labels()).toEqual([...first.labels, ...later]));
    expect(recorder.deliveries.every((delivery) => delivery.redelivered === false)).toBe(true);
    // The claims past the bound were dropped: the lane read them from the log.
    expect(reads).toBeGreaterThan(readsBefore);
  });
});

// A log reader takes its relay's claims from memory (real PostgreSQL): only when a claim
// follows its cursor without a gap and holds every row of its types in the claim's span.
// Anything else (rows of another process's claim in between, a claim taken while this reader did
// not hold its cursor, more claims than it keeps) leaves it to read the log: every event arrives,
// once, in log order, whichever way it came.
import type { INestApplicationContext } from '@nestjs/common';
import { Database } from '@modulith/database';
import { databaseTestConfig } from '@modulith/database/testing';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { recordAppendedClaims } from '../test-support/appended-claims';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads, ThingHappened } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { RecordingSubscription } from '../test-support/recording-subscription';
import { settles } from '../test-support/settles';
import { relayAll } from '../testing';
import { EventLog, type AppendedClaim } from './event-log';
import { LogLane } from './log-lane';

const SUBSCRIBER = 'test.offered';


describe('LogLane: claims offered in memory (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let producer: Producer;
  let log: EventLog;
  /** `EventLog.read` and `EventLog.advance` (cursor writes) calls made by the test's lanes. */
  let reads = 0;
  let writes = 0;
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

  /** The last log position given out (the log itself may be empty: trimmed once every cursor passed it). */
  const lastPosition = async (): Promise<number> =>
    Number((await app.get(Database).dataSource.query('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS head FROM messaging.event_log_position'))[0].head);

  /** The subscriber's cursor as written in the database. */
  const storedCursor = async (): Promise<number> =>
    Number((await app.get(Database).dataSource.query('SELECT position FROM messaging.log_cursors WHERE subscriber = $1', [SUBSCRIBER]))[0].position);

  /** A lane of the test's subscriber that never polls: it reads the log only when woken or offered claims. */
  const startLane = async (recorder: RecordingSubscription, leaseMs = 60_000): Promise<LogLane> => {
    const counted = Object.create(log) as EventLog;
    counted.read = (...args) => {
      reads += 1;
      return log.read(...args);
    };
    counted.advance = (...args) => {
      writes += 1;
      return log.advance(...args);
    };
    const lane = new LogLane(recorder, { log: counted, pollIntervalMs: 60_000, leaseMs, advanced: () => undefined });
    lanes.push(lane);
    lane.start();
    // Caught up with what earlier tests left in the log: it now waits for a wake-up or an offer.
    const head = await lastPosition();
    await settles(() => expect({ position: lane.position, busy: lane.busy }).toEqual({ position: head, busy: false }));
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

  it('does not spin on a claim offered beyond what the log holds (rows gone): it sleeps after a read that moved nothing', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
    const lane = await startLane(recorder);
    const head = await lastPosition();
    const readsBefore = reads;
    lane.offer({ first: head + 100, last: head + 100, rows: 1, types: [ThingHappened.type], entries: [] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(reads - readsBefore).toBeLessThanOrEqual(2);
    expect(lane.position).toBe(head);
    // Rows written after it are still delivered (here, read on the next offer).
    const { labels, claim } = await written(1);
    lane.offer(claim);
    await settles(() => expect(recorder.labels()).toEqual(labels));
  });

  /** Writes `claims` claims of one event each; returns their labels and claims, in order. */
  const writtenClaims = async (claims: number): Promise<{ labels: string[]; claims: AppendedClaim[] }> => {
    const all = { labels: [] as string[], claims: [] as AppendedClaim[] };
    for (let each = 0; each < claims; each += 1) {
      const { labels, claim } = await written(1);
      all.labels.push(...labels);
      all.claims.push(claim);
    }
    return all;
  };

  it('while it has more to read it writes its cursor now and then, not per read; caught up, it writes where it is', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type });
    const lane = await startLane(recorder);
    const { labels, claims: offered } = await writtenClaims(40);
    const writesBefore = writes;
    for (const claim of offered) lane.offer(claim);
    await settles(() => expect(recorder.labels()).toEqual(labels));
    await settles(async () => expect(await storedCursor()).toBe(offered.at(-1)?.last));
    // 8 offered rows, then reads of 16 (a delivery each): one write per read would be as many.
    expect(recorder.deliveries.length).toBeGreaterThanOrEqual(3);
    expect(writes - writesBefore).toBeLessThan(recorder.deliveries.length);
  });

  it('a lease renewed while its cursor as written lags behind does not take the lane back: nothing is handed over twice', async () => {
    // A lease of 300 ms is renewed when 100 ms old, reads come every 60 ms, the cursor is written every 200 ms.
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type, delayMs: 60 });
    const lane = await startLane(recorder, 300);
    const { labels, claims: offered } = await writtenClaims(72);
    for (const claim of offered) lane.offer(claim);
    await settles(() => expect(recorder.labels()).toEqual(labels));
  });

  it('writes where it got when it stops, before it lets the cursor go', async () => {
    const recorder = new RecordingSubscription({ subscriber: SUBSCRIBER, eventType: ThingHappened.type, delayMs: 50 });
    const lane = await startLane(recorder);
    const { claims: offered } = await writtenClaims(40);
    for (const claim of offered) lane.offer(claim);
    await settles(() => expect(recorder.deliveries.length).toBeGreaterThanOrEqual(2));
    await lane.stop();
    const delivered = recorder.labels().length;
    expect(delivered).toBeLessThan(offered.length);
    expect(await storedCursor()).toBe(offered[delivered - 1].last);
  });
});

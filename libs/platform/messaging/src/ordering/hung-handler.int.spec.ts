// Issue 13, a hung handler (real PostgreSQL, in-process transport): it holds back only its own
// subscriber (and, after its timeout, only its own key), nothing else keeps a transaction open
// meanwhile, and the outbox stays cheap to claim because VACUUM can remove what was relayed.
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { createTestDatabase, eventually, sqlOnClient, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { createOrderedApp, type OrderedApp, type OrderedAppOptions } from '../test-support/ordered-app';
import { appliedSeqs, caughtUp, orderProblems, sentByKey } from '../test-support/ordered-checks';
import { ORDERED_SUBSCRIBERS, OrderedControl } from '../test-support/ordered-events';
import { orderingKeys } from '../test-support/ordered-workload';
import { messagingTestConfig, waitForIdle } from '../testing';

/** The hung subscriber's timeout: long enough for everything checked "during the hang" to happen in it. */
const HANG_MS = 12_000;
/** The hang while the outbox is measured: long enough to append and relay `BULK_EVENTS` and vacuum inside it. */
const CLAIM_HANG_MS = 18_000;
/** Oldest any other transaction of the app may be while the handler hangs (relay claims, log reads, other handlers are short). */
const OTHER_TRANSACTION_BOUND_MS = 3000;
/** Buffers the relay's claim query may touch on an outbox VACUUM could clean: a few index and heap pages. */
const CHEAP_CLAIM_BUFFERS = 200;
const BULK_EVENTS = 15_000;

interface OpenTransaction {
  pid: number;
  application_name: string;
  xid: string | null;
  age_ms: number;
  state: string;
  query: string;
}

describe('A hung handler holds back only itself (real PostgreSQL)', () => {
  let db: TestDatabase;
  let client: Client;
  const apps: INestApplicationContext[] = [];

  const start = async (options: Omit<OrderedAppOptions, 'database'>): Promise<OrderedApp> => {
    const started = await createOrderedApp({ database: databaseTestConfig(db.url), ...options });
    apps.push(started.app);
    return started;
  };
  const sql = sqlOnClient(() => client);
  /** The app's transactions open now (its request and messaging pools), with their age. */
  const openTransactions = (): Promise<OpenTransaction[]> =>
    sql<OpenTransaction>(
      `SELECT pid, application_name, backend_xid::text AS xid, (extract(epoch FROM clock_timestamp() - xact_start) * 1000)::int AS age_ms, state, left(query, 80) AS query
         FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'modulith%' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`,
    );
  /** Shared buffers (hit + read) the relay's claim query touches now, after a VACUUM of the outbox. */
  const claimBuffersAfterVacuum = async (): Promise<number> => {
    await sql('VACUUM messaging.outbox');
    const [row] = await sql<{ 'QUERY PLAN': [{ Plan: Record<string, number> }] }>(
      'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT seq FROM messaging.outbox ORDER BY seq LIMIT 500',
    );
    const plan = row['QUERY PLAN'][0].Plan;
    return plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
  };
  /** Every other backend of this database that holds the xmin horizon back: it has a transaction id or a snapshot. */
  const horizonHolders = (): Promise<object[]> =>
    sql(
      `SELECT pid, application_name, backend_type, backend_xid::text AS xid, backend_xmin::text AS xmin, state,
              (extract(epoch FROM clock_timestamp() - xact_start) * 1000)::int AS age_ms, left(query, 80) AS query
         FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)`,
    );
  /**
   * 'cheap' once a VACUUM leaves the claim cheap, else what was seen: the buffers and who holds
   * the horizon. Looked at again for `withinMs`, so a snapshot taken for a moment (autoanalyze,
   * a claim) cannot fail it; a transaction that stays open does.
   */
  const claimVerdict = async (withinMs: number): Promise<'cheap' | { claimBuffers: number; horizonHolders: object[] }> => {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const claimBuffers = await claimBuffersAfterVacuum();
      if (claimBuffers < CHEAP_CLAIM_BUFFERS) return 'cheap';
      if (Date.now() > deadline) return { claimBuffers, horizonHolders: await horizonHolders() };
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const outboxEmpty = async (app: INestApplicationContext): Promise<void> => {
    await eventually(async () => (await app.get(MessagingMetrics).backlog()).outboxPending === 0, { timeoutMs: 40_000, message: 'the relay to empty the outbox' });
  };

  beforeEach(async () => {
    db = await createTestDatabase('hung_handler');
    client = new Client({ connectionString: db.url, application_name: 'hung-handler-test' });
    await client.connect();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await client?.end();
    await db?.drop();
  });

  it('the other subscriber keeps handling during the hang, no other transaction grows old, and after the timeout the hung subscriber’s other keys flow while its key waits', async () => {
    const keys = orderingKeys('h', 10);
    const control = new OrderedControl();
    // h04#2 hangs on its first attempt, and fails after that until the test says otherwise.
    control.hang.serial.add('h04#2');
    control.poison.serial.set('h04#2', Infinity);
    const { app, producer } = await start({
      control,
      messaging: messagingTestConfig({ handlerTimeoutMs: HANG_MS, handlerMaxAttempts: 1000, retryMaxDelayMs: 100, shutdownTimeoutMs: 2000 }),
    });
    const publish = (label: string, events = 2) => producer.publish(keys.flatMap((key) => Array.from({ length: events }, (_, index) => ({ key, label: `${label}-${index}` }))));
    const appliedDuring = async (schema: string): Promise<number> =>
      (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.applied WHERE label LIKE 'during-%'`))[0].n;
    const serialFailures = (): number =>
      app.get(MessagingMetrics).counters().subscribers.find((counters) => counters.subscriber === ORDERED_SUBSCRIBERS.serial.subscriber)?.failures ?? 0;

    await publish('before', 3);
    await eventually(() => control.hungPids.length === 1, { message: 'serial to hang on h04#2' });
    const [hungPid] = control.hungPids;

    // During the hang: events keep being appended and relayed; batched applies every one of them.
    const samples: OpenTransaction[][] = [];
    for (let round = 0; round < 5; round += 1) {
      await publish(`during-${round}`);
      samples.push(await openTransactions());
    }
    await eventually(() => caughtUp(sql, 'batched'), { message: 'batched to apply what was appended during the hang' });
    // Sampled again once the hang is older than the bound, so an old transaction cannot hide.
    await eventually(async () => ((await openTransactions()).find((open) => open.pid === hungPid)?.age_ms ?? 0) > 2 * OTHER_TRANSACTION_BOUND_MS, {
      message: 'the hung transaction to grow older than the bound',
    });
    for (let round = 5; round < 8; round += 1) {
      await publish(`during-${round}`);
      samples.push(await openTransactions());
    }
    await eventually(() => caughtUp(sql, 'batched'), { message: 'batched to apply what was appended during the hang' });
    samples.push(await openTransactions());
    // All of that happened inside the hang: serial has not timed out, nor read past h04#2.
    expect(serialFailures()).toBe(0);
    expect(await appliedDuring('ordered_serial')).toBe(0);
    expect(await appliedDuring('ordered_batched')).toBe(keys.length * 2 * 8);
    const hung = samples.flat().filter((open) => open.pid === hungPid);
    const others = samples.flat().filter((open) => open.pid !== hungPid);
    expect(hung.length).toBe(samples.length);
    expect(Math.max(...hung.map((open) => open.age_ms))).toBeGreaterThan(2 * OTHER_TRANSACTION_BOUND_MS);
    expect(others.filter((open) => open.age_ms >= OTHER_TRANSACTION_BOUND_MS)).toEqual([]);

    // After the timeout: the abandoned transaction went with its connection, serial reads on, and
    // every key but h04 catches up while h04's later events wait behind h04#2 (failing now).
    await eventually(async () => !(await openTransactions()).some((open) => open.pid === hungPid), { timeoutMs: 3 * HANG_MS, message: 'the hung attempt to time out' });
    await eventually(() => caughtUp(sql, 'serial', ['h04']), { message: 'serial to apply every other key' });
    const h04 = (await sentByKey(sql)).get('h04')?.ids.length ?? 0;
    await eventually(
      async () => (await sql<{ n: number }>("SELECT count(*)::int AS n FROM messaging.retries WHERE subscriber = 'ordered.serial' AND ordering_key = 'h04' AND held"))[0].n === h04 - 2,
      { message: "h04's later events to be held" },
    );
    expect(await appliedSeqs(sql, 'serial', 'h04')).toEqual([1]);
    const backlog = await app.get(MessagingMetrics).backlog();
    expect(backlog.heldEvents).toBe(h04 - 2);
    expect(backlog.heldKeys).toBe(1);
    expect(serialFailures()).toBeGreaterThanOrEqual(1);

    control.poison.serial.delete('h04#2');
    await waitForIdle(app);
    expect(await appliedSeqs(sql, 'serial', 'h04')).toEqual(Array.from({ length: h04 }, (_, index) => index + 1));
    expect(await orderProblems(sql, 'serial')).toEqual([]);
    expect(await orderProblems(sql, 'batched')).toEqual([]);
  }, 60_000);

  it('relayed events leave the outbox cheap to claim once vacuumed (control: a transaction holding the horizon makes the same check fail)', async () => {
    const { app, producer } = await start({ consumers: ['serial'], messaging: messagingTestConfig() });
    await producer.publishNoted(BULK_EVENTS);
    await outboxEmpty(app);
    expect(await claimVerdict(10_000)).toBe('cheap');

    // The same with an old transaction open: VACUUM cannot remove the rows deleted after it began.
    const holder = new Client({ connectionString: db.url, application_name: 'horizon-holder' });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT txid_current()');
      await producer.publishNoted(BULK_EVENTS);
      await outboxEmpty(app);
      expect(await claimBuffersAfterVacuum()).toBeGreaterThanOrEqual(CHEAP_CLAIM_BUFFERS);
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    expect(await claimVerdict(10_000)).toBe('cheap');
  }, 60_000);

  it('keeps the outbox cheap to claim while a handler hangs: what the relay moved meanwhile can be vacuumed', async () => {
    // Failed before 8dd50c3: the hung attempt had written its inbox row before calling the
    // handler, so its transaction had an xid and held the xmin horizon for the whole hang.
    const control = new OrderedControl();
    control.hang.serial.add('x00#1');
    const { app, producer } = await start({
      control,
      consumers: ['serial'],
      messaging: messagingTestConfig({ handlerTimeoutMs: CLAIM_HANG_MS, shutdownTimeoutMs: 1000 }),
    });
    await producer.publish([{ key: 'x00', label: 'hangs' }]);
    await eventually(() => control.hungPids.length === 1, { message: 'serial to hang on x00#1' });
    const [hungPid] = control.hungPids;
    const hanging = async (): Promise<boolean> => (await openTransactions()).some((open) => open.pid === hungPid);

    await producer.publishNoted(BULK_EVENTS);
    await outboxEmpty(app);
    const duringHang = await claimVerdict(5000);
    expect(await hanging()).toBe(true);
    // Once the hung attempt timed out (its transaction went with its connection), whatever it held goes too.
    await eventually(async () => !(await hanging()), { timeoutMs: 3 * CLAIM_HANG_MS, message: 'the hung attempt to time out' });
    const afterTimeout = await claimVerdict(10_000);
    expect({ duringHang, afterTimeout }).toEqual({ duringHang: 'cheap', afterTimeout: 'cheap' });
  }, 90_000);
});

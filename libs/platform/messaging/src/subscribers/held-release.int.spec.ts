// Issue 13 (real PostgreSQL): events held behind an earlier event of their key are released by
// the attempt that moves the key on, in batches, not one retry-poller attempt each.
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { createTestDatabase, eventually, sqlOnClient, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { createOrderedApp } from '../test-support/ordered-app';
import { orderProblems } from '../test-support/ordered-checks';
import { OrderedControl } from '../test-support/ordered-events';
import { messagingTestConfig, waitForIdle } from '../testing';

describe('held events released when their key moves on (real PostgreSQL)', () => {
  let db: TestDatabase;
  let client: Client;
  let app: INestApplicationContext | undefined;
  const sql = sqlOnClient(() => client);

  beforeEach(async () => {
    db = await createTestDatabase('held_release');
    client = new Client({ connectionString: db.url });
    await client.connect();
  });

  afterEach(async () => {
    await app?.close();
    await client?.end();
    await db?.drop();
  });

  it('delivers the events held behind a failed event in batches once it succeeds, in keySeq order', async () => {
    const control = new OrderedControl();
    control.poison.batched.set('h00#1', 1);
    // The poller looks only when a retry falls due (its own look is an hour away); the events
    // held behind h00#1 are released by that retry, not attempted by the poller one by one.
    const started = await createOrderedApp({
      database: databaseTestConfig(db.url),
      messaging: messagingTestConfig({ retryPollIntervalMs: 3_600_000, retryBaseDelayMs: 1500, retryMaxDelayMs: 1500 }),
      consumers: ['batched'],
      control,
    });
    app = started.app;
    const parked = async (): Promise<{ held: boolean }[]> => sql<{ held: boolean }>('SELECT held FROM messaging.retries ORDER BY key_seq');
    await started.producer.publish([{ key: 'h00', label: 'first' }]);
    await eventually(async () => (await parked()).length === 1, { message: 'h00#1 to fail and be parked' });
    await started.producer.publish(Array.from({ length: 40 }, (_, index) => ({ key: 'h00', label: `later-${index}` })));
    await eventually(async () => (await parked()).filter((row) => row.held).length === 40, { message: 'the later events to be held' });

    await eventually(async () => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM ordered_batched.applied'))[0].n === 41, {
      message: 'every event of the key to apply',
      describe: async () => JSON.stringify(await sql('SELECT key_seq, held, attempts FROM messaging.retries ORDER BY key_seq LIMIT 5')),
    });
    await waitForIdle(app);
    expect(await orderProblems(sql, 'batched')).toEqual([]);
    expect(control.attemptsOf('batched', 'h00#1')).toBe(2);
    // 40 held events, batches of 25: two transactions, not one poller attempt each.
    const [{ transactions }] = await sql<{ transactions: number }>('SELECT count(DISTINCT tx)::int AS transactions FROM ordered_batched.applied WHERE key_seq > 1');
    expect(transactions).toBeLessThanOrEqual(2);
  }, 60_000);

  it('splits a released batch that fails: the events before the failing one apply, the poller retries it (counted), the rest follow it', async () => {
    const control = new OrderedControl();
    control.poison.batched.set('h00#1', 1);
    control.poison.batched.set('h00#10', Infinity);
    const started = await createOrderedApp({
      database: databaseTestConfig(db.url),
      messaging: messagingTestConfig({ retryPollIntervalMs: 3_600_000, retryBaseDelayMs: 1500, retryMaxDelayMs: 1500 }),
      consumers: ['batched'],
      control,
    });
    app = started.app;
    const applied = async (): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM ordered_batched.applied'))[0].n;
    await started.producer.publish([{ key: 'h00', label: 'first' }]);
    await eventually(async () => (await sql('SELECT 1 FROM messaging.retries')).length === 1, { message: 'h00#1 to fail and be parked' });
    await started.producer.publish(Array.from({ length: 40 }, (_, index) => ({ key: 'h00', label: `later-${index}` })));

    await eventually(async () => (await applied()) === 9, { message: 'h00#1 and the released events before h00#10 to apply' });
    const failing = async (): Promise<{ attempts: number; held: boolean } | undefined> =>
      (await sql<{ attempts: number; held: boolean }>('SELECT attempts, held FROM messaging.retries WHERE key_seq = 10'))[0];
    await eventually(async () => ((await failing())?.attempts ?? 0) >= 1, { message: 'h00#10 to be retried by the poller, its failure counted' });
    expect(await failing()).toMatchObject({ held: false });
    expect(await applied()).toBe(9);
    control.poison.batched.delete('h00#10');

    await eventually(async () => (await applied()) === 41, { message: 'the rest of the key to follow h00#10' });
    await waitForIdle(app);
    expect(await orderProblems(sql, 'batched')).toEqual([]);
    expect(await sql('SELECT event_id FROM messaging.dead_letters')).toEqual([]);
  }, 60_000);
});

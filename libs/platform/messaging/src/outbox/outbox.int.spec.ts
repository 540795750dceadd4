import type { INestApplicationContext } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { runWithCorrelation } from '@modulith/core';
import { Database } from '@modulith/database';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { DirectPublishError } from '../messaging.errors';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { Outbox } from './outbox';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads, ThingHappened } from '../test-support/fixture-events';
import { Moved } from '../test-support/ordered-events';
import type { Producer } from '../test-support/fixture-modules';
import { messagingTestConfig } from '../testing';

describe('Outbox (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let producer: Producer;
  let database: Database;

  const outboxRows = async (): Promise<{ id: string; type: string; source: string; correlation_id: string; causation_id: string | null; payload: unknown }[]> =>
    database.dataSource.query('SELECT id, type, source, correlation_id, causation_id, payload FROM messaging.outbox ORDER BY id');

  beforeAll(async () => {
    db = await createTestDatabase('outbox');
    // No relay: the rows must stay where the producer put them.
    ({ app, producer } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig({ relayEnabled: false }), consumers: [] }));
    database = app.get(Database);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  beforeEach(async () => {
    await database.dataSource.query('TRUNCATE messaging.outbox, producer.things');
  });

  it('commits the events with the state change, stamped with source and the caller’s correlation', async () => {
    const ids = await runWithCorrelation({ correlationId: 'req-42' }, () => producer.publish(payloads(1, 3)));
    const rows = await outboxRows();
    expect(rows.map((row) => row.id)).toEqual(ids);
    expect(rows[0]).toMatchObject({ type: ThingHappened.type, source: 'producer', correlation_id: 'req-42', causation_id: null, payload: { seq: 1, label: 't1' } });
    expect(await database.dataSource.query('SELECT count(*)::int AS n FROM producer.things')).toEqual([{ n: 3 }]);
  });

  it('writes nothing when the transaction rolls back after the append', async () => {
    await expect(producer.publishAndFail(payloads(1, 5))).rejects.toThrow('business rule failed');
    expect(await outboxRows()).toEqual([]);
    expect(await database.dataSource.query('SELECT count(*)::int AS n FROM producer.things')).toEqual([{ n: 0 }]);
  });

  it('appends many events with one statement', async () => {
    const seen: string[] = [];
    await database.transaction(async (tx) => {
      const runner = tx.queryRunner;
      if (!runner) throw new Error('a transaction always has a query runner');
      const query = runner.query.bind(runner);
      runner.query = ((sql: string, ...rest: unknown[]) => {
        seen.push(sql);
        return (query as (...args: unknown[]) => unknown)(sql, ...rest);
      }) as typeof runner.query;
      await app.get(Outbox, { strict: false }).append(tx, payloads(1, 500).map((payload) => new ThingHappened(payload)));
    });
    expect(seen.filter((sql) => sql.includes('messaging.outbox'))).toHaveLength(1);
    expect(await database.dataSource.query('SELECT count(*)::int AS n FROM messaging.outbox')).toEqual([{ n: 500 }]);
  });

  it('numbers keyed events per type and key in the order of the append, beside unkeyed ones, in one statement', async () => {
    const outbox = app.get(Outbox, { strict: false });
    const moved = (key: string): Moved => new Moved({ key, label: key });
    const first = await database.transaction((tx) => outbox.append(tx, [moved('k1'), new ThingHappened({ seq: 1, label: 'x' }), moved('k1'), moved('k2'), moved('k1')]));
    expect(first.map((envelope) => [envelope.orderingKey, envelope.keySeq])).toEqual([['k1', 1], [undefined, undefined], ['k1', 2], ['k2', 1], ['k1', 3]]);
    const second = await database.transaction((tx) => outbox.append(tx, [moved('k2'), moved('k1')]));
    expect(second.map((envelope) => envelope.keySeq)).toEqual([2, 4]);
    const rows: Array<{ id: string; ordering_key: string | null; key_seq: string | null }> = await database.dataSource.query(
      'SELECT id, ordering_key, key_seq::text AS key_seq FROM messaging.outbox ORDER BY seq',
    );
    expect(rows).toEqual([...first, ...second].map((envelope) => ({ id: envelope.id, ordering_key: envelope.orderingKey ?? null, key_seq: envelope.keySeq?.toString() ?? null })));
  });

  it('falls back to a correlation of its own and keeps an explicit origin', async () => {
    const [first, second] = await producer.publish(payloads(1, 2));
    await producer.publish(payloads(3, 1), { correlationId: 'c-explicit', causationId: 'cause-1' });
    const rows = await outboxRows();
    expect(rows[0].correlation_id).toBe(first);
    expect(rows[1]).toMatchObject({ id: second, correlation_id: first });
    expect(rows[2]).toMatchObject({ correlation_id: 'c-explicit', causation_id: 'cause-1' });
  });

  it('rejects payloads JSON would change, failing the producer’s transaction', async () => {
    const outbox = app.get(Outbox, { strict: false });
    const append = (payload: object): Promise<unknown> =>
      database.transaction((tx) => outbox.append(tx, [new ThingHappened({ seq: 1, label: 'ok' }), new ThingHappened(payload as never)]));
    await expect(append({ amount: 1.5 })).rejects.toThrow('events[1].payload.amount: numbers in event payloads must be safe integers');
    await expect(append({ amount: 10n })).rejects.toThrow('events[1].payload.amount: must be plain JSON data, got bigint');
    await expect(append({ at: new Date() })).rejects.toThrow('events[1].payload.at: must be plain JSON data, got an instance of Date');
    expect(await outboxRows()).toEqual([]);
  });

  it('reports what waits in the outbox, and for how long, through the metrics hooks', async () => {
    const metrics = app.get(MessagingMetrics);
    expect(await metrics.backlog()).toEqual({ outboxPending: 0, oldestPendingAgeMs: null, retriesPending: 0, deadLetters: 0, heldEvents: 0, heldKeys: 0, logPending: 0 });
    await producer.publish(payloads(1, 4));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const backlog = await metrics.backlog();
    expect(backlog.outboxPending).toBe(4);
    expect(backlog.oldestPendingAgeMs).toBeGreaterThanOrEqual(20);
  });

  it('refuses integration events published on the EventBus directly', () => {
    const bus = app.get(EventBus);
    expect(() => bus.publish(new ThingHappened({ seq: 1, label: 'x' }))).toThrow(DirectPublishError);
  });

  it('does not wake anyone for a rolled-back append, and wakes after a commit', async () => {
    // With the relay off the commit signal still goes out as a NOTIFY; listen for it directly.
    const { Client } = await import('pg');
    const listener = new Client({ connectionString: db.url });
    await listener.connect();
    const notes: string[] = [];
    listener.on('notification', (message) => notes.push(message.channel));
    await listener.query('LISTEN modulith_outbox');
    try {
      await expect(producer.publishAndFail(payloads(1, 1))).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(notes).toEqual([]);
      await producer.publish(payloads(1, 1));
      await eventually(() => notes.length > 0, { message: 'a NOTIFY after the commit' });
    } finally {
      await listener.end();
    }
  });
});

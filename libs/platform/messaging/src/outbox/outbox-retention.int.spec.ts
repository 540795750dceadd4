import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ValidationError } from '@modulith/core';
import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads } from '../test-support/fixture-events';
import { messagingTestConfig, waitForIdle } from '../testing';
import { runOutboxCommand } from './outbox.command';
import { OutboxController } from './outbox.controller';
import { OutboxRetention } from './outbox-retention';
import { MessagingMetrics } from '../metrics/messaging-metrics';

describe('outbox retention and re-drive (real PostgreSQL)', () => {
  let db: TestDatabase;
  const apps: INestApplicationContext[] = [];

  const sql = sqlOneShot(() => db.url);
  const count = async (table: string): Promise<number> => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;

  beforeAll(async () => {
    db = await createTestDatabase('retention');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await sql('TRUNCATE alpha.effects, alpha.inbox, beta.effects, beta.inbox, messaging.outbox, messaging.outbox_delivered').catch(() => undefined);
  });

  afterAll(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await db?.drop();
  });

  it('by default deletes delivered rows, as before: nothing is kept', async () => {
    const { app, producer } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig() });
    apps.push(app);
    await producer.publish(payloads(1, 5));
    await waitForIdle(app);
    expect(await count('messaging.outbox_delivered')).toBe(0);
    expect(app.get(OutboxRetention).enabled).toBe(false);
  });

  it('keeps delivered rows for the window, re-drives them from a point in time, and prunes them after it', async () => {
    const { app, producer, control } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig({ outboxRetentionHours: 2 }) });
    apps.push(app);
    const before = new Date(Date.now() - 1000);
    await producer.publish(payloads(1, 10));
    await waitForIdle(app);
    const middle = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await producer.publish(payloads(11, 5));
    await waitForIdle(app);
    expect(await count('messaging.outbox_delivered')).toBe(15);
    const retention = app.get(OutboxRetention);
    expect((await retention.retained()).rows).toBe(15);

    // Only what was delivered since `middle`; the inboxes skip all of it, best effort sees repeats.
    expect(await retention.redriveFrom(middle)).toBe(5);
    await waitForIdle(app);
    await eventually(() => control.bestEffortSeen.length === 20, { message: 'the best-effort repeats' });
    expect(await count('alpha.effects')).toBe(15);
    expect(await count('beta.effects')).toBe(15);
    expect(await retention.redriveFrom(before)).toBe(15);
    await waitForIdle(app);
    expect(await count('alpha.effects')).toBe(15);
    // The log offers re-driven events as first deliveries (no inbox look-up before the handler):
    // the inbox refuses each repeat at COMMIT and the attempt is made again with the look-up. A
    // repeat is not a failure of the subscriber: nothing counted as failed, parked or dead-lettered.
    const counters = app.get(MessagingMetrics).counters().subscribers;
    expect(counters.map(({ failures, retriesScheduled, deadLettered }) => failures + retriesScheduled + deadLettered)).toEqual(counters.map(() => 0));
    expect(counters.length).toBeGreaterThan(0);

    expect(await retention.pruneOnce(Date.now() + 60_000)).toBe(0);
    expect(await retention.pruneOnce(Date.now() + 3 * 3_600_000)).toBe(15);
    expect(await count('messaging.outbox_delivered')).toBe(0);
  });

  it('offers the re-drive as a CLI command and an admin endpoint that validate their input', async () => {
    // Outside Nest, as a script would use it (the schema exists: the other tests migrated it).
    const dataSource = await new DataSource({ type: 'postgres', url: db.url }).initialize();
    const retention = new OutboxRetention({ dataSource });
    const lines: string[] = [];
    expect(await runOutboxCommand(['retained'], retention, (line) => lines.push(line))).toBe(0);
    expect(await runOutboxCommand(['redrive', '--since', '2026-01-01T00:00:00Z'], retention, (line) => lines.push(line))).toBe(0);
    expect(await runOutboxCommand(['redrive', '--since', 'yesterday'], retention, (line) => lines.push(line))).toBe(1);
    expect(await runOutboxCommand(['redrive'], retention, (line) => lines.push(line))).toBe(2);
    expect(lines).toEqual([
      '0 delivered event(s) kept, delivered from - to -',
      '0 event(s) back in the outbox for the relays to publish again',
      'error: since: must be a valid date',
      expect.stringContaining('usage:'),
    ]);
    const controller = new OutboxController(retention);
    await expect(controller.redrive(undefined)).rejects.toThrow(ValidationError);
    await expect(controller.redrive('not a time')).rejects.toThrow('since: must be an ISO 8601 time');
    expect(await controller.redrive('2026-01-01T00:00:00Z')).toEqual({ since: '2026-01-01T00:00:00.000Z', redriven: 0 });
    await dataSource.destroy();
  });
});

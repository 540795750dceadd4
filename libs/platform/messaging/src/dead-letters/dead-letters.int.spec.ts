import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { NotFoundError, uuidv7, ValidationError } from '@modulith/core';
import { Database } from '@modulith/database';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads, ThingHappened, type FixtureControl } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { messagingTestConfig, waitForIdle } from '../testing';
import { runDeadLetterCommand } from './dead-letter.command';
import { DeadLetters } from './dead-letters';
import { DeadLettersController } from './dead-letters.controller';

const ALPHA = 'alpha.AlphaSubscriber.apply';
const BETA = 'beta.BetaSubscriber.applyMany';
const BASE_DELAY_MS = 40;

describe('Retries and dead letters (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  let producer: Producer;
  let control: FixtureControl;
  let deadLetters: DeadLetters;
  let database: Database;

  const count = async (table: string, where = 'true', parameters: unknown[] = []): Promise<number> =>
    (await database.dataSource.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, parameters))[0].n;

  beforeAll(async () => {
    db = await createTestDatabase('dead_letters');
    ({ app, producer, control } = await createFixtureApp({
      database: databaseTestConfig(db.url),
      messaging: messagingTestConfig({ handlerMaxAttempts: 3, retryBaseDelayMs: BASE_DELAY_MS, retryMaxDelayMs: 1000, retryPollIntervalMs: 50 }),
      controllers: [DeadLettersController],
      logger: false, // the expected handler failures would fill the output
    }));
    deadLetters = app.get(DeadLetters);
    database = app.get(Database);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('retries a poison event with backoff, dead-letters it after the last attempt, and lets everything else through', async () => {
    control.poison.alpha.add('poison');
    control.poison.beta.add('poison');
    const ids = await producer.publish(payloads(1, 120, (seq) => (seq === 77 ? 'poison' : `t${seq}`)));
    const poisonId = ids[76];

    // Neither subscriber is held back: the good events are handled while the poison one waits.
    await eventually(async () => (await count('alpha.effects')) === 119 && (await count('beta.effects')) === 119, {
      message: 'the 119 good events to be handled by both subscribers',
    });
    await eventually(async () => (await count('messaging.dead_letters')) === 2, { message: 'the poison event to be dead-lettered twice' });

    const letters = await deadLetters.list();
    expect(letters.map((letter) => letter.subscriber).sort()).toEqual([ALPHA, BETA]);
    const alpha = letters.find((letter) => letter.subscriber === ALPHA);
    expect(alpha).toMatchObject({ eventId: poisonId, eventType: ThingHappened.type, attempts: 3, error: 'alpha cannot digest poison' });
    expect(alpha?.stack).toContain('AlphaSubscriber.apply');
    expect(alpha?.envelope).toMatchObject({ id: poisonId, type: ThingHappened.type, version: 1, source: 'producer', payload: { seq: 77, label: 'poison' } });

    // Attempts were spaced by the (jittered, doubling) backoff: at least half of each delay.
    const times = control.attempts.get('alpha:poison') ?? [];
    expect(times).toHaveLength(3);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(BASE_DELAY_MS / 2 - 5);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(BASE_DELAY_MS - 5);

    // The batch subscriber isolated the poison event instead of failing its 49 neighbours.
    expect(await count('beta.effects', 'batch_size > 1')).toBeGreaterThan(100);
    expect(await count('messaging.retries')).toBe(0);
    const counters = app.get(MessagingMetrics).counters().subscribers.find((c) => c.subscriber === ALPHA);
    expect(counters).toMatchObject({ handled: 119, failures: 3, retriesScheduled: 2, deadLettered: 1 });
  }, 30_000);

  it('replays a dead letter once the handler is fixed, exactly once', async () => {
    control.poison.alpha.clear();
    control.poison.beta.clear();
    const [alpha] = await deadLetters.list({ subscriber: ALPHA });

    await deadLetters.replay(alpha.id);
    expect(await deadLetters.replayAll(BETA)).toBe(1);
    await waitForIdle(app);
    expect(await count('alpha.effects', 'event_id = $1', [alpha.eventId])).toBe(1);
    expect(await count('beta.effects', 'event_id = $1', [alpha.eventId])).toBe(1);
    expect(await deadLetters.count()).toBe(0);

    await expect(deadLetters.replay(alpha.id)).rejects.toThrow(NotFoundError);
    expect(await deadLetters.replayAll(ALPHA)).toBe(0);
  });

  it('skips a replayed event the subscriber had already handled', async () => {
    const [handled] = await producer.publish(payloads(500, 1));
    await waitForIdle(app);
    const letterId = uuidv7();
    await database.dataSource.query(
      `INSERT INTO messaging.dead_letters (id, subscriber, event_id, event_type, envelope, error, attempts)
       VALUES ($1, $2, $3, $4, $5, 'planted', 3)`,
      [letterId, ALPHA, handled, ThingHappened.type, JSON.stringify({ id: handled, type: ThingHappened.type, version: 1, occurredAt: new Date().toISOString(), source: 'producer', correlationId: handled, causationId: null, payload: { seq: 500, label: 't500' } })],
    );
    await deadLetters.replay(letterId);
    await waitForIdle(app);
    expect(await count('alpha.effects', 'event_id = $1', [handled])).toBe(1);
  });

  it('dead-letters an event of a newer version than the subscriber knows, instead of misreading it', async () => {
    const id = uuidv7();
    await database.dataSource.query(
      `INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, payload)
       VALUES ($1, $2, 2, now(), 'producer', 'c-v2', '{"seq": 1, "label": "v2", "renamed": true}')`,
      [id, ThingHappened.type],
    );
    await eventually(async () => (await count('messaging.dead_letters', 'event_id = $1', [id])) === 2, { message: 'the v2 event to be dead-lettered' });
    const [letter] = await deadLetters.list({ subscriber: ALPHA, limit: 1 });
    expect(letter.error).toContain('understands test.thing-happened up to version 1, got version 2');
    await database.dataSource.query('DELETE FROM messaging.dead_letters');
  });

  it('serves the admin endpoints', async () => {
    control.poison.alpha.add('http');
    const [id] = await producer.publish([{ seq: 900, label: 'http' }]);
    await eventually(async () => (await count('messaging.dead_letters')) === 1, { message: 'a dead letter to serve' });
    control.poison.alpha.clear();
    const http = (app as NestFastifyApplication).getHttpAdapter().getInstance();

    const listed = await http.inject({ method: 'GET', url: `/admin/dead-letters?subscriber=${ALPHA}&limit=10` });
    expect(listed.statusCode).toBe(200);
    const body = listed.json() as { items: { id: string; eventId: string }[]; nextBefore: string | null };
    expect(body.items.map((item) => item.eventId)).toEqual([id]);
    expect(body.nextBefore).toBeNull();

    const replayed = await http.inject({ method: 'POST', url: `/admin/dead-letters/${body.items[0].id}/replay` });
    expect(replayed.statusCode).toBe(202);
    expect(replayed.json()).toEqual({ subscriber: ALPHA, eventId: id });
    const all = await http.inject({ method: 'POST', url: `/admin/dead-letters/replay?subscriber=${BETA}` });
    expect(all.statusCode).toBe(202);
    expect(all.json()).toEqual({ subscriber: BETA, replayed: 0 });
    await waitForIdle(app);
    expect(await count('alpha.effects', 'event_id = $1', [id])).toBe(1);

    const controller = app.get(DeadLettersController);
    await expect(controller.replay('not-a-uuid')).rejects.toThrow(ValidationError);
    await expect(controller.replayAll(undefined)).rejects.toThrow(ValidationError);
    await expect(controller.list(undefined, '0')).rejects.toThrow(ValidationError);
  });

  it('offers the same through a CLI command', async () => {
    control.poison.beta.add('cli');
    const [id] = await producer.publish([{ seq: 901, label: 'cli' }]);
    await eventually(async () => (await count('messaging.dead_letters')) === 1, { message: 'a dead letter for the CLI' });
    control.poison.beta.clear();
    const lines: string[] = [];
    const print = (line: string): number => lines.push(line);

    expect(await runDeadLetterCommand(['list', '--subscriber', BETA, '--json'], deadLetters, print)).toBe(0);
    const letter = JSON.parse(lines[0]) as { id: string; eventId: string };
    expect(letter.eventId).toBe(id);
    expect(await runDeadLetterCommand(['list'], deadLetters, print)).toBe(0);
    expect(lines[1].split('\t')).toContain('subscriber');
    expect(await runDeadLetterCommand(['replay-all', BETA], deadLetters, print)).toBe(0);
    expect(lines.at(-1)).toBe(`replaying 1 dead letter(s) for ${BETA}`);
    expect(await runDeadLetterCommand(['replay', letter.id], deadLetters, print)).toBe(1);
    expect(lines.at(-1)).toMatch(/^error: no dead letter/);
    expect(await runDeadLetterCommand(['frobnicate'], deadLetters, print)).toBe(2);
    await waitForIdle(app);
    expect(await count('beta.effects', 'event_id = $1', [id])).toBe(1);
  });
});

// Issue 12, kinds 1, 2, 3 and 5 (the messaging half): each test here failed on the code before
// the fix (applied twice, a relay retrying for ever, an outbox that never drains, a deadlocked
// pool, an effect lost without a trace) and must pass now. Real PostgreSQL and Redis.
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { uuidv7, ValidationError } from '@modulith/core';
import { Database } from '@modulith/database';
import { createTestDatabase, eventually, sqlOneShot, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { DeadLetters } from '../dead-letters/dead-letters';
import type { EventEnvelope } from '../events/event-envelope';
import { createFixtureApp, type FixtureAppOptions } from '../test-support/fixture-app';
import { FixtureControl, payloads, ThingHappened } from '../test-support/fixture-events';
import { deleteRedisKeys, messagingTestConfig, redisTestPrefix, requireRedis, waitForIdle } from '../testing';
import { encodeEnvelope, ENVELOPE_FIELD, streamKey } from '../transport/redis/stream-entries';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('Delivery faults: copies, handler errors, unstorable events, hung handlers, pool starvation (real PostgreSQL)', () => {
  let db: TestDatabase;
  const apps: INestApplicationContext[] = [];

  const start = async (options: Omit<FixtureAppOptions, 'database'> & { poolSize?: number }) => {
    const started = await createFixtureApp({ database: { ...databaseTestConfig(db.url), poolSize: options.poolSize ?? databaseTestConfig(db.url).poolSize }, ...options });
    apps.push(started.app);
    return started;
  };
  const sql = sqlOneShot(() => db.url);
  const effectIds = async (schema: 'alpha' | 'beta'): Promise<string[]> =>
    (await sql<{ event_id: string }>(`SELECT event_id FROM ${schema}.effects ORDER BY event_id`)).map((row) => row.event_id);
  const deadLetterIds = async (): Promise<string[]> =>
    (await sql<{ event_id: string }>('SELECT event_id FROM messaging.dead_letters ORDER BY event_id')).map((row) => row.event_id);
  const outboxCount = async (): Promise<number> => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM messaging.outbox'))[0].n;

  beforeAll(async () => {
    db = await createTestDatabase('delivery_faults');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await sql('TRUNCATE alpha.effects, alpha.inbox, beta.effects, beta.inbox, messaging.outbox, messaging.event_log, messaging.retries, messaging.dead_letters').catch(() => undefined);
  });

  afterAll(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await db?.drop();
  });

  describe('kind 1: any number of copies of an event has its effect once', () => {
    const prefix = redisTestPrefix('copies');
    let redis: Redis;

    beforeAll(async () => {
      await requireRedis(REDIS_URL);
      redis = new Redis(REDIS_URL, { lazyConnect: true });
      await redis.connect();
    });
    afterAll(async () => {
      await deleteRedisKeys(REDIS_URL, prefix);
      redis?.disconnect();
    });

    const envelope = (seq: number): EventEnvelope => ({
      id: uuidv7(),
      type: ThingHappened.type,
      version: 1,
      occurredAt: new Date().toISOString(),
      source: 'producer',
      correlationId: `copies-${seq}`,
      causationId: null,
      payload: { seq, label: `c${seq}` },
    });
    const append = async (envelopes: readonly EventEnvelope[]): Promise<void> => {
      const multi = redis.multi();
      for (const item of envelopes) multi.xadd(streamKey(prefix, item.type), '*', ENVELOPE_FIELD, encodeEnvelope(item));
      await multi.exec();
    };

    it('in one read, across reads, and while a copy is being handled (a re-drive, a relay that appended then rolled back)', async () => {
      const events = Array.from({ length: 40 }, (_, index) => envelope(index));
      // Both copies of every event wait in the stream before the consumer's first read: one batch holds both.
      await append([...events, ...events.slice().reverse()]);
      const { app } = await start({
        messaging: messagingTestConfig({ relayEnabled: false, eventTransport: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix }),
      });
      const ids = events.map((item) => item.id).sort();
      await eventually(async () => (await effectIds('beta')).length >= ids.length && (await effectIds('alpha')).length >= ids.length, {
        message: 'every event to reach both subscribers',
      });
      // More copies later, one by one and all at once, while the first ones are long handled.
      await append(events.slice(0, 10));
      await append([...events, ...events]);
      await waitForIdle(app);
      expect(await effectIds('beta')).toEqual(ids);
      expect(await effectIds('alpha')).toEqual(ids);
    }, 60_000);
  });

  describe('kind 2: only a failure of the subscriber’s own transaction is infrastructure', () => {
    it('retries and dead-letters a handler that throws a connection-like error of its own, while the others flow', async () => {
      const control = new FixtureControl();
      control.poison.alpha.add('t3');
      control.alphaError = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443 (the handler’s own outbound call)'), { code: 'ECONNREFUSED' });
      const { producer } = await start({ control, messaging: messagingTestConfig({ handlerMaxAttempts: 3 }) });
      const ids = await producer.publish(payloads(1, 5));
      await eventually(async () => (await deadLetterIds()).length === 1, { timeoutMs: 20_000, message: 'the failing event to be dead-lettered' });
      expect(await deadLetterIds()).toEqual([ids[2]]);
      expect(await effectIds('beta')).toEqual([...ids].sort());
      expect(await effectIds('alpha')).toEqual(ids.filter((_, index) => index !== 2).sort());
      expect(control.attempts.get('alpha:t3')).toHaveLength(3);
      expect(await outboxCount()).toBe(0);
    }, 40_000);

    it.each([
      ['Object.create(null)', () => Object.create(null) as Error],
      ['an Error whose message getter throws', () => Object.defineProperty(new Error('x'), 'message', { get: () => { throw new Error('no message for you'); } })],
      ['a revoked Proxy', () => { const { proxy, revoke } = Proxy.revocable(new Error('x'), {}); revoke(); return proxy; }],
      ['an error whose message reads like a lost connection', () => new Error('Connection terminated unexpectedly (the handler’s own client)')],
    ])('retries and dead-letters whatever the handler throws, even %s, and the others flow', async (_what, thrown) => {
      const control = new FixtureControl();
      control.poison.alpha.add('t2');
      control.alphaError = thrown;
      const { producer } = await start({ control, messaging: messagingTestConfig({ handlerMaxAttempts: 2 }) });
      const ids = await producer.publish(payloads(1, 3));
      await eventually(async () => (await deadLetterIds()).length === 1, { timeoutMs: 20_000, message: 'the failing event to be dead-lettered' });
      expect(await deadLetterIds()).toEqual([ids[1]]);
      expect(await effectIds('alpha')).toEqual([ids[0], ids[2]].sort());
      expect(await effectIds('beta')).toEqual([...ids].sort());
      expect(await outboxCount()).toBe(0);
    }, 40_000);

    it('does not count a lost connection of its own transaction as an attempt: the event is handled once it is back', async () => {
      const control = new FixtureControl();
      control.betaDelayMs = 1500;
      const { app, producer } = await start({ control, messaging: messagingTestConfig({ handlerMaxAttempts: 1 }) });
      const ids = await producer.publish(payloads(1, 3));
      await eventually(() => control.batchSizes.length > 0, { message: 'beta to be in its transaction' });
      // Kill every messaging connection that has a transaction open (the relay's claim and beta's).
      await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = current_database() AND application_name LIKE '%-messaging' AND xact_start IS NOT NULL`);
      control.betaDelayMs = 0;
      await waitForIdle(app, { timeoutMs: 20_000 });
      expect(await effectIds('beta')).toEqual([...ids].sort());
      expect(await effectIds('alpha')).toEqual([...ids].sort());
      const letters = await sql<{ subscriber: string; error: string }>('SELECT subscriber, error FROM messaging.dead_letters');
      expect(letters).toEqual([]); // one attempt allowed, none spent
    }, 40_000);

    it('fails a handler that swallowed a failed statement instead of committing nothing and calling it handled', async () => {
      const control = new FixtureControl();
      control.swallow.add('t2');
      const { app, producer } = await start({ control, messaging: messagingTestConfig({ handlerMaxAttempts: 2 }) });
      const ids = await producer.publish(payloads(1, 3));
      await eventually(async () => (await deadLetterIds()).length === 1, { timeoutMs: 20_000, message: 'the event to be dead-lettered' });
      const [letter] = await app.get(DeadLetters).list({});
      expect(letter.eventId).toBe(ids[1]);
      expect(letter.error).toContain('AbortedTransactionError');
      expect(await effectIds('alpha')).toEqual([ids[0], ids[2]].sort());
    }, 40_000);
  });

  describe('kind 3: whatever the outbox holds can be retried, dead-lettered and replayed', () => {
    const note = 'holds \u0000 inside';
    const writeDirectly = async (label: string): Promise<string> => {
      // What an older producer (or a hand-written INSERT) could leave in the outbox. The NUL is in
      // a field the fixture's handlers do not store, so only the poisoned subscriber fails.
      const id = uuidv7();
      await sql(
        `INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload)
         VALUES ($1, $2, 1, now(), 'producer', 'direct', null, $3::json)`,
        [id, ThingHappened.type, JSON.stringify({ seq: 99, label, note })],
      );
      return id;
    };

    it('parks, dead-letters and replays a payload holding \\u0000, and the others flow', async () => {
      const label = 'nul-inside';
      const control = new FixtureControl();
      control.poison.alpha.add(label);
      const { app, producer } = await start({ control, messaging: messagingTestConfig({ handlerMaxAttempts: 2 }) });
      const id = await writeDirectly(label);
      const ids = await producer.publish(payloads(1, 3));
      await eventually(async () => (await deadLetterIds()).length === 1, { timeoutMs: 20_000, message: 'the event to be dead-lettered' });
      expect(await deadLetterIds()).toEqual([id]);
      expect(await effectIds('alpha')).toEqual([...ids].sort());
      expect(await effectIds('beta')).toEqual([...ids, id].sort());
      const [letter] = await app.get(DeadLetters).list({});
      expect((letter.envelope.payload as { note: string }).note).toBe(note);

      control.poison.alpha.clear();
      await app.get(DeadLetters).replay(letter.id);
      await eventually(async () => (await effectIds('alpha')).includes(id), { timeoutMs: 20_000, message: 'the replayed event to be applied' });
      expect(await deadLetterIds()).toEqual([]);
    }, 40_000);

    it('keeps a handler error whose message holds \\u0000', async () => {
      const control = new FixtureControl();
      control.poison.alpha.add('t2');
      control.alphaError = () => new Error('bad byte \u0000 in the reply');
      const { producer } = await start({ control, messaging: messagingTestConfig({ handlerMaxAttempts: 2 }) });
      const ids = await producer.publish(payloads(1, 3));
      await eventually(async () => (await deadLetterIds()).length === 1, { timeoutMs: 20_000, message: 'the event to be dead-lettered' });
      const [row] = await sql<{ error: string }>('SELECT error FROM messaging.dead_letters');
      expect(row.error).toContain('bad byte \\u0000 in the reply');
      expect(await effectIds('alpha')).toEqual([ids[0], ids[2]].sort());
    }, 40_000);

    it('dead-letters with its payload as text an event the retry table refuses, rather than retrying it for ever', async () => {
      const label = 'nul-again';
      const control = new FixtureControl();
      control.poison.alpha.add(label);
      const { producer } = await start({ control, messaging: messagingTestConfig({ handlerMaxAttempts: 3 }) });
      // A retry table that refuses what the outbox holds, as before the storage types agreed.
      await sql('ALTER TABLE messaging.retries ALTER COLUMN envelope TYPE jsonb USING envelope::jsonb');
      try {
        const id = await writeDirectly(label);
        const ids = await producer.publish(payloads(1, 2));
        await eventually(async () => (await deadLetterIds()).length === 1, { timeoutMs: 20_000, message: 'the event to be dead-lettered' });
        const [row] = await sql<{ event_id: string; error: string; envelope: { payload: unknown; payloadText: string } }>(
          'SELECT event_id, error, envelope FROM messaging.dead_letters',
        );
        expect(row.event_id).toBe(id);
        expect(row.error).toContain('could not be parked');
        expect(JSON.parse(row.envelope.payloadText)).toEqual({ seq: 99, label, note });
        await eventually(async () => (await effectIds('alpha')).length === 2, { message: 'the other events to flow' });
        expect(await effectIds('alpha')).toEqual([...ids].sort());
        expect(await outboxCount()).toBe(0);
      } finally {
        await sql('ALTER TABLE messaging.retries ALTER COLUMN envelope TYPE json USING envelope::text::json');
      }
    }, 40_000);

    it('relays a row whose instant JavaScript cannot hold (occurred_at infinity), so it blocks nothing behind it', async () => {
      const { app, producer } = await start({ messaging: messagingTestConfig() });
      const odd = uuidv7();
      await sql(
        `INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload)
         VALUES ($1, $2, 1, 'infinity', 'producer', 'direct', null, $3::json)`,
        [odd, ThingHappened.type, JSON.stringify({ seq: 98, label: 'at-infinity' })],
      );
      const ids = await producer.publish(payloads(1, 3));
      await waitForIdle(app, { timeoutMs: 20_000 });
      expect(await effectIds('alpha')).toEqual([...ids, odd].sort());
      expect(await effectIds('beta')).toEqual([...ids, odd].sort());
    }, 40_000);

    it('refuses at append a payload PostgreSQL could not keep everywhere, naming the field', async () => {
      const { producer } = await start({ messaging: messagingTestConfig() });
      await expect(producer.publish([{ seq: 1, label: 'a\u0000b' }])).rejects.toThrow(ValidationError);
      await expect(producer.publish([{ seq: 1, label: 'a\u0000b' }])).rejects.toThrow('events[0].payload.label');
      await expect(producer.publish([{ seq: 1, label: 'lone \ud800 surrogate' }])).rejects.toThrow('unpaired UTF-16 surrogate');
      expect(await outboxCount()).toBe(0);
    });
  });

  describe('kind 5: every wait in delivery has a bound', () => {
    it('times out a hung handler, retries then dead-letters it, and holds back no other subscriber or event', async () => {
      const control = new FixtureControl();
      control.hang.add('t5');
      const { app, producer } = await start({ control, messaging: messagingTestConfig({ handlerTimeoutMs: 400, handlerMaxAttempts: 2 }) });
      const ids = await producer.publish(payloads(1, 20));
      await eventually(async () => (await deadLetterIds()).length === 1, { timeoutMs: 20_000, message: 'the hung event to be dead-lettered' });
      const [letter] = await app.get(DeadLetters).list({});
      expect(letter.eventId).toBe(ids[4]);
      expect(letter.error).toContain('HandlerTimeoutError');
      expect(await effectIds('beta')).toEqual([...ids].sort());
      expect(await effectIds('alpha')).toEqual(ids.filter((_, index) => index !== 4).sort());
      // The abandoned transactions went with their connections: nothing is left open.
      const open = await sql(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`);
      expect(open).toEqual([]);
      expect(await outboxCount()).toBe(0);
    }, 40_000);

    it('cannot deadlock or starve requests: relay loops as many as the request pool, with a backlog', async () => {
      const producerOnly = await start({ consumers: [], messaging: messagingTestConfig({ relayEnabled: false }) });
      const ids: string[] = [];
      for (let round = 0; round < 10; round += 1) ids.push(...(await producerOnly.producer.publish(payloads(round * 200, 200))));
      const { app } = await start({ poolSize: 2, messaging: messagingTestConfig({ relayConcurrency: 2, relayBatchSize: 100 }) });
      // The request pool answers while delivery runs on its own connections.
      const answered = await app.get(Database).dataSource.query('SELECT 1 AS one');
      expect(answered).toEqual([{ one: 1 }]);
      await waitForIdle(app, { timeoutMs: 30_000 });
      expect(await effectIds('alpha')).toHaveLength(ids.length);
      expect(await effectIds('beta')).toHaveLength(ids.length);
    }, 60_000);

    it('refuses to start with a messaging pool too small for what runs here, naming the fix', async () => {
      await expect(start({ logger: false, messaging: messagingTestConfig({ messagingPoolSize: 2, relayConcurrency: 2 }) })).rejects.toThrow(
        /MessagingModule option messagingPoolSize \(2\) is too small: .*set it to at least 11/,
      );
    });
  });
});

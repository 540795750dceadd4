// Remote calls under Redis faults and shutdown, on a private redis-server (real PostgreSQL):
// a caller never hangs (typed error by its deadline), calls work again once Redis is back, and a
// replica that shuts down withdraws first and answers what it took.
import type { INestApplicationContext } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { CallDeadlineExceededError, ModuleNotHostedError, withCallDeadline } from '@modulith/core';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { MessagingConfig } from '../messaging.config';
import { CallTransportError } from '../messaging.errors';
import { AccountsModule, executedEchoes, OpenAccountCommand, SlowEchoQuery, type Echo } from '../test-support/call-fixtures';
import { createFixtureApp } from '../test-support/fixture-app';
import { messagingTestConfig, redisTestPrefix } from '../testing';
import { callKeys } from '../transport/redis/call-keys';
import { startRedisTestServer, type RedisTestServer } from '../transport/redis/redis-test-server';

/** Every wait of these tests (`CALL_FAULT_TEST_TIMEOUT_MS`): generous, yet finite. */
const WAIT_MS = Number(process.env['CALL_FAULT_TEST_TIMEOUT_MS'] ?? 30_000);
const COMMAND_TIMEOUT_MS = 500;
jest.setTimeout(3 * WAIT_MS);

describe('remote calls under Redis faults and shutdown (private redis-server, real PostgreSQL)', () => {
  let db: TestDatabase;
  let sql: Client;
  let server: RedisTestServer | undefined;
  const apps: INestApplicationContext[] = [];

  const start = async (redisUrl: string, prefix: string, serving: boolean, overrides: Partial<MessagingConfig> = {}): Promise<INestApplicationContext> => {
    const messaging = messagingTestConfig({
      eventTransport: 'redis',
      redisUrl,
      redisKeyPrefix: prefix,
      redisCommandTimeoutMs: COMMAND_TIMEOUT_MS,
      callHeartbeatMs: 100,
      callHostTtlMs: 400,
      ...overrides,
    });
    const { app } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging, consumers: [], imports: serving ? [AccountsModule] : [], logger: false });
    apps.push(app);
    return app;
  };
  const echo = (app: INestApplicationContext, label: string, delayMs = 0, deadlineMs = 2000): Promise<Echo> =>
    withCallDeadline(deadlineMs, () => app.get(QueryBus, { strict: false }).execute(new SlowEchoQuery(label, delayMs)));
  /** Retries a call until it succeeds: the loops are back once one goes through end to end. */
  const answersAgain = async (app: INestApplicationContext, label: string): Promise<void> => {
    let attempt = 0;
    await eventually(
      async () => {
        attempt += 1;
        return echo(app, `${label}-${attempt}`, 0, 1000).then(
          () => true,
          () => false,
        );
      },
      { timeoutMs: WAIT_MS, pollMs: 100, message: `${label}: a call to go through again` },
    );
  };

  beforeAll(async () => {
    db = await createTestDatabase('calls_faults');
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterEach(async () => {
    server?.resume();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await server?.destroy();
    server = undefined;
  });

  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  it('gives a caller a typed error by its deadline while Redis is paused, and serves calls again once it resumes', async () => {
    server = await startRedisTestServer();
    const prefix = redisTestPrefix('calls-paused');
    await start(server.url, prefix, true);
    const caller = await start(server.url, prefix, false);
    await expect(echo(caller, 'before')).resolves.toMatchObject({ label: 'before' });

    // Taken by the replica, then Redis freezes before the reply can go back.
    const inFlight = echo(caller, 'paused-in-flight', 300, 1500).catch((error: unknown) => error);
    await eventually(() => executedEchoes.includes('paused-in-flight'), { timeoutMs: WAIT_MS, message: 'the replica to take the call' });
    server.pause();
    expect(await inFlight).toBeInstanceOf(CallDeadlineExceededError);
    // Sent while Redis is frozen: refused by its command bound, or out of time, never a hang.
    const sentWhilePaused = await echo(caller, 'sent-while-paused', 0, 1500).catch((error: unknown) => error);
    expect([CallTransportError, CallDeadlineExceededError].some((type) => sentWhilePaused instanceof type)).toBe(true);

    server.resume();
    await answersAgain(caller, 'after-pause');
  });

  it('serves calls again after Redis restarted empty (request groups and presence made anew)', async () => {
    server = await startRedisTestServer();
    const prefix = redisTestPrefix('calls-restart');
    await start(server.url, prefix, true);
    const caller = await start(server.url, prefix, false);
    await expect(echo(caller, 'before-restart')).resolves.toMatchObject({ label: 'before-restart' });

    await server.stop();
    const whileDown = await echo(caller, 'while-down', 0, 1000).catch((error: unknown) => error);
    expect([CallTransportError, CallDeadlineExceededError].some((type) => whileDown instanceof type)).toBe(true);
    await server.start();
    await answersAgain(caller, 'after-restart');
  });

  it('withdraws a stopping replica first, answers the calls it took, and then fails new calls at once', async () => {
    server = await startRedisTestServer();
    const prefix = redisTestPrefix('calls-shutdown');
    const replica = await start(server.url, prefix, true);
    const caller = await start(server.url, prefix, false, { callTimeoutMs: 60_000 });
    const commands = caller.get(CommandBus, { strict: false });

    const taken = commands.execute(new OpenAccountCommand('acc-drained', 'barbara', 1500));
    const redis = new Redis(server.url);
    try {
      await eventually(async () => (await redis.xpending(callKeys.requests(prefix, 'accounts'), 'accounts', '-', '+', 10)).length === 1, {
        timeoutMs: WAIT_MS,
        message: 'the replica to take the command',
      });
    } finally {
      redis.disconnect();
    }
    const closing = replica.close();
    await expect(taken).resolves.toEqual({ id: 'acc-drained', applications: 1 });
    await closing;
    expect((await sql.query('SELECT count(*)::int AS n FROM accounts.applications WHERE account_id = $1', ['acc-drained'])).rows[0].n).toBe(1);
    apps.splice(apps.indexOf(replica), 1);

    const afterwards = await caller.get(QueryBus, { strict: false }).execute(new SlowEchoQuery('after-shutdown', 0)).catch((error: unknown) => error);
    expect(afterwards).toBeInstanceOf(ModuleNotHostedError);
  });
});

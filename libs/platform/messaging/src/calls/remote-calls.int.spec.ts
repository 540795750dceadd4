// Remote commands and queries over Redis (real Redis and PostgreSQL): the caller process hosts
// no `accounts` module, so `bus.execute(new GetAccountQuery(...))` travels to a replica of it,
// in this process's other app or in a child process that the tests SIGKILL mid-call.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  CallDeadlineExceededError,
  currentCallDeadline,
  ModuleNotHostedError,
  NotFoundError,
  RemoteHandlerError,
  ReplicaLostError,
  runWithCorrelation,
  ValidationError,
  withCallDeadline,
} from '@modulith/core';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { MessagingConfig } from '../messaging.config';
import { CallTransportError } from '../messaging.errors';
import {
  AccountLookup,
  AccountLookupModule,
  AccountsModule,
  BadResultQuery,
  executedEchoes,
  HangQuery,
  releaseHungQueries,
  GetAccountQuery,
  OpenAccountCommand,
  SlowEchoQuery,
  type Echo,
  type Opened,
} from '../test-support/call-fixtures';
import { createFixtureApp } from '../test-support/fixture-app';
import { deleteRedisKeys, messagingTestConfig, redisTestPrefix, requireRedis } from '../testing';
import { callKeys, CALL_FIELD } from '../transport/redis/call-keys';
import type { RedisCallTransport } from '../transport/redis/redis-calls.transport';
import { CallPayloadError } from './call-payload';
import { CALL_TRANSPORT } from './call-transport';
import { decodeReply, encodeCall, type CallReply, type CallRequest } from './call-wire';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const REGISTER = path.join(__dirname, '..', 'test-support', 'ts-register.cjs');
const CHILD = path.join(__dirname, 'call-server-child.fixture.ts');
/** Every wait of these tests (`CALL_FAULT_TEST_TIMEOUT_MS`): generous for a loaded machine, yet finite. */
const WAIT_MS = Number(process.env['CALL_FAULT_TEST_TIMEOUT_MS'] ?? 30_000);
jest.setTimeout(3 * WAIT_MS);

describe('remote commands and queries over Redis (real Redis and PostgreSQL)', () => {
  let db: TestDatabase;
  let sql: Client;
  let redis: Redis;
  const prefixes: string[] = [];
  const apps: INestApplicationContext[] = [];
  const children = new Set<ChildProcess>();

  const config = (prefix: string, overrides: Partial<MessagingConfig> = {}): Partial<MessagingConfig> =>
    messagingTestConfig({ eventTransport: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix, callHeartbeatMs: 100, callHostTtlMs: 400, ...overrides });
  const newPrefix = (label: string): string => {
    const prefix = redisTestPrefix(`calls-${label}`);
    prefixes.push(prefix);
    return prefix;
  };
  /** A process that hosts `accounts` (serving) or not (calling only). */
  const start = async (prefix: string, serving: boolean, overrides: Partial<MessagingConfig> = {}): Promise<INestApplicationContext> => {
    const { app } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: config(prefix, overrides), consumers: [], imports: serving ? [AccountsModule] : [] });
    apps.push(app);
    return app;
  };
  const buses = (app: INestApplicationContext): { queries: QueryBus; commands: CommandBus } => ({
    queries: app.get(QueryBus, { strict: false }),
    commands: app.get(CommandBus, { strict: false }),
  });
  const applications = async (id: string): Promise<number> =>
    (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts.applications WHERE account_id = $1', [id])).rows[0].n;
  const stats = (app: INestApplicationContext): ReturnType<RedisCallTransport['stats']> => app.get<RedisCallTransport>(CALL_TRANSPORT, { strict: false }).stats();

  /** A replica of `accounts` in a child process; resolves once it is announced. */
  const startChild = async (prefix: string, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> => {
    const child = spawn(process.execPath, ['-r', REGISTER, CHILD], {
      env: { ...process.env, CALLS_DATABASE_URL: db.url, CALLS_REDIS_URL: REDIS_URL, CALLS_KEY_PREFIX: prefix, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const output: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the child replica was not ready within ${WAIT_MS} ms: ${output.join('')}`)), WAIT_MS);
      child.stdout?.on('data', (chunk: Buffer) => (chunk.toString().includes('ready') ? (clearTimeout(timer), resolve()) : undefined));
      child.once('exit', (code, signal) => (clearTimeout(timer), reject(new Error(`child exited (${code ?? signal}) before it was ready: ${output.join('')}`))));
    });
    return child;
  };
  /** An `OpenAccountCommand` for account `acc-<label>` as a caller sends it, for the tests that deliver it by hand. */
  const openAccountRequest = (label: string, owner: string, holdMs: number, deadline: number): CallRequest => ({
    id: `request-${label}-1`,
    kind: 'command',
    module: 'accounts',
    type: 'fixture.open-account',
    payload: { id: `acc-${label}`, owner, holdMs },
    deadline,
    replyTo: `test-replies-${label}`,
    correlationId: `corr-${label}`,
  });
  /** The next `count` replies to `request`, each waited for up to WAIT_MS. */
  const repliesTo = async (prefix: string, request: CallRequest, count: number): Promise<CallReply[]> => {
    const replies: CallReply[] = [];
    for (let index = 0; index < count; index += 1) {
      const popped = await redis.blpop(callKeys.replies(prefix, request.replyTo), WAIT_MS / 1000);
      replies.push(decodeReply(popped?.[1] ?? '') as CallReply);
    }
    return replies;
  };
  /** Resolves once a replica took the only call to `accounts` and has not answered it yet. */
  const takenBy = async (prefix: string): Promise<string> => {
    let holder = '';
    await eventually(
      async () => {
        const pending = (await redis.xpending(callKeys.requests(prefix, 'accounts'), 'accounts', '-', '+', 10)) as [string, string][];
        holder = pending[0]?.[1] ?? '';
        return pending.length === 1;
      },
      { timeoutMs: WAIT_MS, message: 'a replica to take the call' },
    );
    return holder;
  };

  beforeAll(async () => {
    await requireRedis(REDIS_URL);
    redis = new Redis(REDIS_URL);
    db = await createTestDatabase('calls');
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    await sql?.end();
    await db?.drop();
    for (const prefix of prefixes) await deleteRedisKeys(REDIS_URL, prefix);
    redis?.disconnect();
  });

  it('runs a remote command and query from a process that hosts no accounts module, with their typed results', async () => {
    const prefix = newPrefix('results');
    await start(prefix, true);
    const { queries, commands } = buses(await start(prefix, false));

    const opened: Opened = await commands.execute(new OpenAccountCommand('acc-1', 'ada'));
    expect(opened).toEqual({ id: 'acc-1', applications: 1 });
    await expect(queries.execute(new GetAccountQuery('acc-1'))).resolves.toEqual({ id: 'acc-1', owner: 'ada' });
  });

  it('keeps the class, message and context of typed errors across the hop; an unserializable result fails at the handler side', async () => {
    const prefix = newPrefix('errors');
    await start(prefix, true);
    const { queries, commands } = buses(await start(prefix, false));

    const missing = await queries.execute(new GetAccountQuery('nobody')).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ message: 'account nobody does not exist', context: { id: 'nobody' }, code: 'NOT_FOUND' });

    const invalid = await commands.execute(new OpenAccountCommand('acc-2', '')).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid).toMatchObject({ field: 'owner', message: 'owner: must not be empty' });

    const unserializable = await queries.execute(new BadResultQuery()).catch((error: unknown) => error);
    expect(unserializable).toBeInstanceOf(RemoteHandlerError);
    expect(unserializable).toMatchObject({ context: { remoteCode: 'CALL_PAYLOAD_INVALID', module: 'accounts', messageType: 'fixture.bad-result' } });
  });

  it('forwards from the buses of a module that imports a plain CqrsModule too, not only from the root ones', async () => {
    const prefix = newPrefix('module-buses');
    await start(prefix, true);
    const { commands } = buses(await start(prefix, false));
    await commands.execute(new OpenAccountCommand('acc-buses', 'lin'));
    const { app } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: config(prefix), consumers: [], imports: [AccountLookupModule] });
    apps.push(app);

    await expect(app.get(AccountLookup, { strict: false }).find('acc-buses')).resolves.toEqual({ id: 'acc-buses', owner: 'lin' });
  });

  it('starts a serving and a calling process without reporting read failures while their Redis connections connect', async () => {
    const warnings = jest.spyOn(Logger.prototype, 'warn');
    try {
      const prefix = newPrefix('quiet-start');
      await start(prefix, true);
      const { queries } = buses(await start(prefix, false));
      await expect(queries.execute(new GetAccountQuery('nobody'))).rejects.toBeInstanceOf(NotFoundError);
      const reported = warnings.mock.calls.map(([message]) => String(message)).filter((message) => /could not read|read of .* failed|isn't writeable/.test(message));
      expect(reported).toEqual([]);
    } finally {
      warnings.mockRestore();
    }
  });

  it('carries the correlation id and the caller’s deadline to the handler', async () => {
    const prefix = newPrefix('context');
    await start(prefix, true);
    const { queries } = buses(await start(prefix, false));

    const { echo, deadline } = await runWithCorrelation({ correlationId: 'corr-remote-1' }, () =>
      withCallDeadline(5000, async () => ({ echo: (await queries.execute(new SlowEchoQuery('context', 0))) as Echo, deadline: currentCallDeadline() })),
    );
    expect(echo).toEqual({ label: 'context', pid: process.pid, correlationId: 'corr-remote-1', deadline });
  });

  it('fails at once with ModuleNotHostedError naming the module when no process hosts it', async () => {
    const { queries } = buses(await start(newPrefix('nohost'), false, { callTimeoutMs: 60_000 }));
    const error = await queries.execute(new GetAccountQuery('acc-1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModuleNotHostedError);
    expect(error).toMatchObject({ module: 'accounts', context: { module: 'accounts', messageType: 'fixture.get-account' } });
  });

  it('never executes a call whose deadline passed while it was queued', async () => {
    const prefix = newPrefix('expired');
    const server = await start(prefix, true, { callConcurrency: 1 });
    const { queries } = buses(await start(prefix, false));

    const blocker = queries.execute(new SlowEchoQuery('blocker', 1500));
    await eventually(() => executedEchoes.includes('blocker'), { timeoutMs: WAIT_MS, message: 'the blocker to run' });
    const late = await withCallDeadline(200, () => queries.execute(new SlowEchoQuery('late', 0))).catch((error: unknown) => error);
    expect(late).toBeInstanceOf(CallDeadlineExceededError);
    await expect(blocker).resolves.toMatchObject({ label: 'blocker' });
    await eventually(() => stats(server).expired === 1, { timeoutMs: WAIT_MS, message: 'the late call to be dropped' });
    expect(executedEchoes).not.toContain('late');
  });

  it('refuses at once a call sent while the module’s stream holds CALL_STREAM_MAXLEN calls, and never drops one already queued', async () => {
    const prefix = newPrefix('flood');
    await start(prefix, true, { callConcurrency: 1 });
    const { queries } = buses(await start(prefix, false, { callStreamMaxLen: 100 }));

    const blocker = queries.execute(new SlowEchoQuery('flood-blocker', 1000));
    await eventually(() => executedEchoes.includes('flood-blocker'), { timeoutMs: WAIT_MS, message: 'the blocker to run' });
    const labels = Array.from({ length: 150 }, (_, index) => `flood-${index}`);
    const outcomes = await Promise.all(
      labels.map((label) =>
        withCallDeadline(WAIT_MS, () => queries.execute(new SlowEchoQuery(label, 0))).then(
          () => 'answered',
          (error: unknown) => (error instanceof CallTransportError ? 'refused' : String(error)),
        ),
      ),
    );
    await blocker;
    const answered = outcomes.filter((outcome) => outcome === 'answered').length;
    expect(outcomes.filter((outcome) => outcome !== 'answered' && outcome !== 'refused')).toEqual([]);
    expect(answered).toBeGreaterThanOrEqual(90);
    expect(answered).toBeLessThan(labels.length);
    expect(executedEchoes.filter((label) => labels.includes(label))).toHaveLength(answered);
  });

  it('does not let handlers that never return wedge a replica: past deadline and grace their slots go to the next calls, and at most CALL_CONCURRENCY are abandoned', async () => {
    const prefix = newPrefix('overrun');
    const server = await start(prefix, true, { callConcurrency: 2, callOverrunGraceMs: 100 });
    const { queries } = buses(await start(prefix, false));
    const { commands } = buses(server);
    await commands.execute(new OpenAccountCommand('acc-overrun', 'kim'));
    try {
      const hang = () => withCallDeadline(300, () => queries.execute(new HangQuery()));
      await Promise.all([hang(), hang()].map((call) => expect(call).rejects.toBeInstanceOf(CallDeadlineExceededError)));
      await eventually(async () => stats(server).overran === 2, { timeoutMs: WAIT_MS, message: 'both hung calls abandoned' });

      // Both slots were held by handlers that never return; the replica still answers.
      await expect(withCallDeadline(WAIT_MS, () => queries.execute(new GetAccountQuery('acc-overrun')))).resolves.toEqual({ id: 'acc-overrun', owner: 'kim' });

      // Two more hang past the bound: they keep their slots, so at most 2 x CALL_CONCURRENCY handlers ever run.
      await Promise.all([hang(), hang()].map((call) => expect(call).rejects.toBeInstanceOf(CallDeadlineExceededError)));
      await eventually(async () => stats(server).overran === 4, { timeoutMs: WAIT_MS, message: 'the next two hung calls overran' });
      await expect(withCallDeadline(500, () => queries.execute(new GetAccountQuery('acc-overrun')))).rejects.toBeInstanceOf(CallDeadlineExceededError);
    } finally {
      releaseHungQueries();
    }
    // Once the handlers return, the slots are free again.
    await expect(withCallDeadline(WAIT_MS, () => queries.execute(new GetAccountQuery('acc-overrun')))).resolves.toEqual({ id: 'acc-overrun', owner: 'kim' });
  });

  it('applies a command delivered twice once, and answers both deliveries with the same result', async () => {
    const prefix = newPrefix('twice');
    await start(prefix, true);
    await start(prefix, true);
    const request = openAccountRequest('twice', 'grace', 300, Date.now() + WAIT_MS);
    // The same request twice, as a redelivery would bring it: both replicas take one at once.
    const stream = callKeys.requests(prefix, 'accounts');
    await redis.xadd(stream, '*', CALL_FIELD, encodeCall(request));
    await redis.xadd(stream, '*', CALL_FIELD, encodeCall(request));
    const replies = await repliesTo(prefix, request, 2);
    expect(replies.map((reply) => (reply.ok ? reply.result : reply.error))).toEqual([
      { id: 'acc-twice', applications: 1 },
      { id: 'acc-twice', applications: 1 },
    ]);
    expect(await applications('acc-twice')).toBe(1);

    // Delivered again later, after both finished: still applied once, same reply.
    await redis.xadd(stream, '*', CALL_FIELD, encodeCall(request));
    const [again] = await repliesTo(prefix, request, 1);
    expect(again).toMatchObject({ ok: true, result: { id: 'acc-twice', applications: 1 } });
    expect(await applications('acc-twice')).toBe(1);
  });

  it('forgets the consumers that replicas gone for good left in the module’s group, so restarts do not grow it without bound', async () => {
    const prefix = newPrefix('consumers');
    // Replicas that come and go, as restarts and crashes leave them: each one a consumer of the group.
    for (let index = 0; index < 3; index += 1) (await startChild(prefix)).kill('SIGKILL');
    const survivor = await start(prefix, true);
    const { queries } = buses(await start(prefix, false));
    await expect(queries.execute(new SlowEchoQuery('consumers', 0))).resolves.toMatchObject({ label: 'consumers' });
    const consumers = async (): Promise<string[]> =>
      ((await redis.xinfo('CONSUMERS', callKeys.requests(prefix, 'accounts'), 'accounts')) as string[][]).map((fields) => fields[1]);
    const replica = survivor.get<RedisCallTransport>(CALL_TRANSPORT, { strict: false }).replica;
    await eventually(async () => (await consumers()).every((name) => name === replica), {
      timeoutMs: WAIT_MS,
      message: 'the consumers of the killed replicas to be forgotten',
    });
    expect(await consumers()).toEqual([replica]);
  });

  it('agrees on a deadline with a replica whose clock runs an hour ahead: its calls are answered, not dropped as expired', async () => {
    const prefix = newPrefix('skew');
    await startChild(prefix, { CALLS_CLOCK_SKEW_MS: String(3_600_000) });
    const { queries, commands } = buses(await start(prefix, false));

    const echo = (await withCallDeadline(WAIT_MS, () => queries.execute(new SlowEchoQuery('skewed', 0)))) as Echo;
    expect(echo).toMatchObject({ label: 'skewed' });
    expect(echo.pid).not.toBe(process.pid);
    await expect(withCallDeadline(WAIT_MS, () => commands.execute(new OpenAccountCommand('acc-skewed', 'edsger')))).resolves.toEqual({ id: 'acc-skewed', applications: 1 });
  });

  it('never applies a command past its deadline, even one that waited for the receipt of a delivery whose backend was terminated', async () => {
    const prefix = newPrefix('late-receipt');
    await start(prefix, true);
    await start(prefix, true);
    const deadline = Date.now() + 1000;
    const request = openAccountRequest('late', 'tony', 3000, deadline);
    // Delivered twice: the first holds its transaction (and the receipt row) open, the second waits on that row.
    const stream = callKeys.requests(prefix, 'accounts');
    await redis.xadd(stream, '*', CALL_FIELD, encodeCall(request));
    await redis.xadd(stream, '*', CALL_FIELD, encodeCall(request));
    const backends = async (condition: string): Promise<number[]> =>
      (await sql.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND ${condition}`)).rows.map(
        (row) => row.pid,
      );
    await eventually(async () => (await backends("wait_event_type = 'Lock'")).length === 1, {
      timeoutMs: WAIT_MS,
      message: 'the second delivery to wait on the receipt of the first',
    });
    // The deadline passes while the second waits; then the first one's backend goes (an operator, a failover).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now()) + 200));
    const holders = await backends("state = 'idle in transaction' AND query LIKE '%accounts.accounts%'");
    expect(holders).toHaveLength(1);
    await sql.query('SELECT pg_terminate_backend($1)', [holders[0]]);

    const replies = await repliesTo(prefix, request, 2);
    expect(replies.map((reply) => (reply.ok ? reply.result : reply.error.code))).toContain('CALL_DEADLINE_EXCEEDED');
    expect(replies.every((reply) => !reply.ok)).toBe(true);
    expect(replies.map((reply) => (reply.ok ? undefined : reply.error.code))).toContain('CALL_DEADLINE_EXCEEDED');
    expect(await applications('acc-late')).toBe(0);
  });

  it('sends a query again to another replica when the one serving it is killed mid-call', async () => {
    const prefix = newPrefix('kill-query');
    const child = await startChild(prefix);
    const { queries } = buses(await start(prefix, false));

    const answer = withCallDeadline(WAIT_MS, () => queries.execute(new SlowEchoQuery('survivor', 1000))) as Promise<Echo>;
    expect(await takenBy(prefix)).toContain(`:${child.pid}:`);
    await start(prefix, true);
    child.kill('SIGKILL');
    await expect(answer).resolves.toEqual(expect.objectContaining({ label: 'survivor', pid: process.pid }));
  });

  it('fails a command with ReplicaLostError within its deadline when its replica is killed mid-call, and does not send it again', async () => {
    const prefix = newPrefix('kill-command');
    const child = await startChild(prefix);
    const caller = await start(prefix, false);
    const { commands } = buses(caller);

    const outcome = withCallDeadline(WAIT_MS, () => commands.execute(new OpenAccountCommand('acc-killed', 'linus', 5000))).catch((error: unknown) => error);
    expect(await takenBy(prefix)).toContain(`:${child.pid}:`);
    child.kill('SIGKILL');
    const error = await outcome;
    expect(error).toBeInstanceOf(ReplicaLostError);
    expect(error).toMatchObject({ context: { module: 'accounts', messageType: 'fixture.open-account' } });
    // Its transaction died with it; nobody applies it later.
    expect(await applications('acc-killed')).toBe(0);
    expect(await redis.xlen(callKeys.requests(prefix, 'accounts'))).toBe(0);
    expect(stats(caller).resent).toBe(0);
  });
});

describe('public commands and queries with the in-process transport', () => {
  let db: TestDatabase;
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('calls_inprocess');
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await db?.drop();
  });

  it('calls a hosted module in process, unserialized, and fails at once for a module not loaded, naming it', async () => {
    const production = messagingTestConfig({ callCheckInProcess: false });
    const hosting = (await createFixtureApp({ database: databaseTestConfig(db.url), messaging: production, consumers: [], imports: [AccountsModule] })).app;
    const alone = (await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig(), consumers: [] })).app;
    apps.push(hosting, alone);

    // A plain bus call: the bigint that could never cross the wire arrives as it is.
    await expect(hosting.get(QueryBus, { strict: false }).execute(new BadResultQuery())).resolves.toEqual({ amount: 10n });
    const error = await alone.get(QueryBus, { strict: false }).execute(new GetAccountQuery('acc-1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModuleNotHostedError);
    expect(error).toMatchObject({ module: 'accounts' });
    expect((error as Error).message).toContain('EVENT_TRANSPORT');
  });

  it('with CALL_CHECK_IN_PROCESS (tests), refuses in process a result a remote call could not carry, naming the field', async () => {
    const checking = (await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig(), consumers: [], imports: [AccountsModule] })).app;
    apps.push(checking);
    const queries = checking.get(QueryBus, { strict: false });
    const error = await queries.execute(new BadResultQuery()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CallPayloadError);
    expect(error).toMatchObject({ context: { field: 'fixture.bad-result.result.amount', messageType: 'fixture.bad-result' } });
    await expect(queries.execute(new SlowEchoQuery('checked', 0))).resolves.toMatchObject({ label: 'checked' });
  });
});

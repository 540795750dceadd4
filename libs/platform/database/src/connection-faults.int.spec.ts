import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import type { FixtureCommand, FixtureReply } from './connection-faults.fixture';
import { HoldingProxy } from './holding-proxy';
import { createTestDatabase, eventually, TEST_SERVER_URL, type TestDatabase } from '@modulith/testing';

const FIXTURE = path.join(__dirname, 'connection-faults.fixture.ts');
const REGISTER = path.join(__dirname, '..', '..', 'messaging', 'src', 'test-support', 'ts-register.cjs');
const WAIT_MS = Number(process.env['FAULT_TEST_WAIT_MS'] ?? 20_000);

/** The fixture process, its replies in order, and how it ended if it did. */
class Fixture {
  private readonly replies: FixtureReply[] = [];
  private waiting?: () => void;
  output = '';
  exit?: { code: number | null; signal: NodeJS.Signals | null };

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: FixtureReply) => {
      this.replies.push(reply);
      this.waiting?.();
    });
    child.stdout?.on('data', (chunk) => (this.output += chunk));
    child.stderr?.on('data', (chunk) => (this.output += chunk));
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.waiting?.();
    });
  }

  /** The next reply; fails naming the fixture's last words if it exited or took longer than WAIT_MS. */
  async next(): Promise<FixtureReply> {
    const deadline = Date.now() + WAIT_MS;
    while (this.replies.length === 0) {
      if (this.exit) throw new Error(`the process exited (${JSON.stringify(this.exit)}):\n${this.output.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`no reply from the fixture within ${WAIT_MS} ms:\n${this.output.slice(-3000)}`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 100);
      });
    }
    return this.replies.shift() as FixtureReply;
  }

  async send(command: FixtureCommand): Promise<FixtureReply> {
    this.child.send(command);
    return this.next();
  }

  async stop(): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGKILL');
    await new Promise((resolve) => this.child.once('exit', resolve));
  }
}

describe('a PostgreSQL connection lost in any state never ends the process, and the pool recovers', () => {
  let database: TestDatabase;
  let admin: Client;
  let proxy: HoldingProxy;
  let fixture: Fixture | undefined;

  const backends = async (): Promise<number[]> =>
    (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`, [database.name])).rows.map(
      (row) => row.pid,
    );
  const terminate = (pids: number[]) => admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
  const until = (what: string, condition: () => Promise<boolean>) => eventually(condition, { message: what, timeoutMs: WAIT_MS, pollMs: 20 });

  beforeAll(async () => {
    database = await createTestDatabase('connfaults');
    admin = new Client({ connectionString: TEST_SERVER_URL });
    await admin.connect();
    const server = new URL(TEST_SERVER_URL);
    proxy = await HoldingProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
  });

  beforeEach(async () => {
    proxy.hold = false;
    const url = new URL(database.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const child = fork(FIXTURE, [], { execArgv: ['-r', REGISTER], env: { ...process.env, FAULTS_DATABASE_URL: url.toString() }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    fixture = new Fixture(child);
    expect(await fixture.next()).toEqual({ ok: true });
  });

  afterEach(async () => {
    await fixture?.stop();
  });

  // Dropping the database waits for its last connections to go: more than Jest's default 5 s on a loaded machine (seen in CI).
  afterAll(async () => {
    await proxy?.stop();
    await admin?.end();
    await database?.drop();
  }, 30_000);

  it('idle in the pool, checked out between queries, inside a transaction, taken from the pool directly: all terminated at once', async () => {
    const running = fixture as Fixture;
    expect(await running.send('hold')).toEqual({ ok: true });
    const held = await backends();
    expect(held.length).toBeGreaterThanOrEqual(5);

    await terminate(held);
    await until('every terminated backend to be gone', async () => (await backends()).every((pid) => !held.includes(pid)));

    // Alive, the dead connections are given back and dropped, and new ones serve queries. An
    // idle pooled connection whose termination notice the child has not read yet may fail one
    // query (a 503 in the app) before the pool drops it.
    expect(await running.send('release')).toEqual({ ok: true });
    const failures: unknown[] = [];
    await until('a query to succeed on a fresh connection', async () => {
      const answer = await running.send('query');
      if (!answer.ok) failures.push(answer.error);
      return answer.ok === true;
    });
    expect(failures.every((error) => /terminating connection|Connection terminated/i.test(String(error)))).toBe(true);
    const { stats } = await running.send('stats');
    expect(stats?.waiting).toBe(0);
    expect(running.exit).toBeUndefined();
  });

  it('a connection whose termination arrives in the same read as its start-up reply', async () => {
    const running = fixture as Fixture;
    // No idle connection left, so the next query opens a new one.
    await terminate(await backends());
    await until('an empty pool', async () => (await running.send('stats')).stats?.total === 0);

    proxy.hold = true;
    running.child.send('query' satisfies FixtureCommand);
    let opened: number[] = [];
    await until('the new connection to reach the server', async () => (opened = await backends()).length > 0);
    proxy.hold = false;
    await terminate(opened);

    // The query that got the dead connection fails as a lost connection (a 503 upstream), nothing more.
    const reply = await running.next();
    expect(reply.ok).toBe(false);
    expect(reply.error).toMatch(/connection error|terminat/i);
    expect(await running.send('query')).toEqual({ ok: true });
    expect(running.exit).toBeUndefined();
  });
});

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Test } from '@nestjs/testing';
import { Database } from './database';
import { DatabaseModule } from './database.module';
import { EmbeddedPostgresPortConflictError } from './embedded-postgres.errors';
import { EmbeddedPostgresServer } from './embedded-postgres.server';
import { freePort, sqlOneShot, TEST_SERVER_URL } from '@modulith/testing';

async function listening<S extends Server>(server: S, port: number): Promise<S> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function failure(work: Promise<unknown>): Promise<EmbeddedPostgresPortConflictError> {
  const outcome = await work.then(
    () => new Error('expected the start to fail'),
    (error: unknown) => error,
  );
  if (outcome instanceof EmbeddedPostgresPortConflictError) return outcome;
  throw outcome;
}

async function servedFolder(url: string): Promise<string> {
  const [row] = await sqlOneShot(url)<{ data_directory: string }>('SHOW data_directory');
  return row.data_directory;
}

describe('EmbeddedPostgresServer (real PostgreSQL binaries)', () => {
  let root: string;
  const logs: string[] = [];
  const port = 55_000 + Math.floor(Math.random() * 1000);

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'modulith-embedded-'));
    chmodSync(root, 0o755); // the server runs as user postgres when we are root
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('starts a real server, stops it, and reuses the data on the next start', async () => {
    const options = { dataDir: path.join(root, 'pg'), port, log: (message: string) => logs.push(message) };
    const first = new EmbeddedPostgresServer(options);
    const url = await first.start();
    await sqlOneShot(url)('CREATE TABLE kept (value text); INSERT INTO kept VALUES ($$survives restarts$$)');
    await first.stop();

    const second = new EmbeddedPostgresServer(options);
    await second.start();
    try {
      expect(await sqlOneShot(url)('SELECT value FROM kept')).toEqual([{ value: 'survives restarts' }]);
      expect(logs.some((line) => line.includes('reusing embedded PostgreSQL data'))).toBe(true);
      expect(logs.some((line) => line.includes(options.dataDir))).toBe(true);

      // A CLI command started while the app runs shares the server and leaves it running.
      const visitor = new EmbeddedPostgresServer(options);
      await visitor.start();
      await visitor.stop();
      expect(logs.some((line) => line.includes(`using the embedded PostgreSQL of process ${process.pid}`))).toBe(true);
      expect(await sqlOneShot(url)('SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 1 }]);
    } finally {
      await second.stop();
    }
  }, 60_000);
});

describe('DatabaseModule.forRoot without a url', () => {
  it('starts the embedded server in the DataSource factory, and stops it after the DataSource closes', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'modulith-embedded-module-'));
    chmodSync(root, 0o755);
    const port = await freePort();
    try {
      const moduleRef = await Test.createTestingModule({ imports: [DatabaseModule.forRoot({ dataDir: path.join(root, 'pg'), embeddedPort: port })] }).compile();
      moduleRef.useLogger(['error']);
      const app = await moduleRef.init();
      const source = app.get(Database).dataSource;
      expect(await source.query('SHOW port')).toEqual([{ port: String(port) }]);
      expect(await source.query('SHOW data_directory')).toEqual([{ data_directory: path.join(root, 'pg') }]);
      await app.close();
      expect(source.isInitialized).toBe(false);
      await expect(sqlOneShot(`postgres://postgres@127.0.0.1:${port}/postgres`)('SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('EmbeddedPostgresServer after its app was killed', () => {
  it('stops the orphaned server and starts afresh', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'modulith-orphan-'));
    chmodSync(root, 0o755);
    const options = { dataDir: path.join(root, 'pg'), port: 56_000 + Math.floor(Math.random() * 1000), log: () => undefined };
    try {
      const first = new EmbeddedPostgresServer(options);
      const url = await first.start();
      // Simulate a SIGKILLed owner: the server keeps running, the recorded owner is dead.
      writeFileSync(path.join(root, 'postgres.owner'), '999999');
      const second = new EmbeddedPostgresServer(options);
      await second.start();
      expect(await sqlOneShot(url)('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await second.stop();
      await first.stop(); // already gone: a no-op
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('EmbeddedPostgresServer on a port it does not get (issue 12)', () => {
  let root: string;
  const started: EmbeddedPostgresServer[] = [];
  const logs: string[] = [];
  const server = (name: string, port: number) => {
    const created = new EmbeddedPostgresServer({ dataDir: path.join(root, name, 'postgres'), port, log: (line) => logs.push(line), probeTimeoutMs: 1000 });
    started.push(created);
    return created;
  };

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'modulith-port-'));
    chmodSync(root, 0o755);
  });

  afterEach(async () => {
    for (const each of started.splice(0)) await each.stop();
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("another app's embedded server on the port: a start-up error naming the port and both data folders; nothing of ours is started and the other data is untouched", async () => {
    const port = await freePort();
    const a = server('a', port);
    const url = await a.start();
    await sqlOneShot(url)('CREATE TABLE owned_by_a (value text); INSERT INTO owned_by_a VALUES ($$a$$)');

    const b = server('b', port);
    const error = await failure(b.start());
    const aDir = path.join(root, 'a', 'postgres');
    const bDir = path.join(root, 'b', 'postgres');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain(aDir);
    expect(error.message).toContain(bDir);
    expect(error.message).toContain('EMBEDDED_PG_PORT');
    expect(error.context).toMatchObject({ port, dataDir: bDir, otherDataDir: aDir });
    expect(existsSync(path.join(bDir, 'postmaster.pid'))).toBe(false);
    expect(logs.some((line) => line.includes(`listening on 127.0.0.1:${port}, data in ${bDir}`))).toBe(false);
    expect(await servedFolder(url)).toBe(aDir);
    expect(await sqlOneShot(url)('SELECT value FROM owned_by_a')).toEqual([{ value: 'a' }]);
  }, 60_000);

  it('two apps starting at once on one port with other data folders: one starts, the other fails naming the port; neither serves the other one', async () => {
    const warmUp = await freePort();
    for (const name of ['c', 'd']) {
      const each = server(name, warmUp);
      await each.start(); // initdb outside the race
      await each.stop();
    }
    const port = await freePort();
    const [c, d] = [server('c', port), server('d', port)];
    const outcomes = await Promise.allSettled([c.start(), d.start()]);
    const won = outcomes.findIndex((outcome) => outcome.status === 'fulfilled');
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes[1 - won] as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(EmbeddedPostgresPortConflictError);
    expect((lost.reason as Error).message).toContain(`127.0.0.1:${port}`);
    expect(await servedFolder(c.url)).toBe(path.join(root, ['c', 'd'][won], 'postgres'));
  }, 90_000);

  const shared = new URL(TEST_SERVER_URL);
  const sharedIsLocal = ['127.0.0.1', 'localhost'].includes(shared.hostname);
  (sharedIsLocal ? it : it.skip)('an unrelated PostgreSQL on the port (the shared test server): a start-up error naming its data folder', async () => {
    const port = Number(shared.port || 5432);
    const error = await failure(server('e', port).start());
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain(await servedFolder(TEST_SERVER_URL));
    expect(existsSync(path.join(root, 'e', 'postgres'))).toBe(false);
  }, 60_000);

  it('a process that is not PostgreSQL on the port (an HTTP server, a silent listener): a start-up error saying so', async () => {
    const http = await listening(createHttpServer((_request, response) => response.end('hello')), await freePort());
    // Reads and never answers; resume() lets it see the client hang up, so close() returns.
    const silent = await listening(createServer((socket) => socket.resume()), await freePort());
    try {
      for (const other of [http, silent]) {
        const port = (other.address() as { port: number }).port;
        const error = await failure(server(`f${port}`, port).start());
        expect(error.message).toContain(`127.0.0.1:${port}`);
        expect(error.message).toContain('does not answer as PostgreSQL');
      }
    } finally {
      http.closeAllConnections?.();
      await new Promise((resolve) => http.close(resolve));
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 60_000);

  it('a postmaster.pid naming a live process that is not PostgreSQL (a reused pid): that process is left alone and the server starts', async () => {
    const port = await freePort();
    const g = server('g', port);
    await g.start();
    const lock = readFileSync(path.join(root, 'g', 'postgres', 'postmaster.pid'), 'utf8');
    await g.stop();
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(root, 'g', 'postgres', 'postmaster.pid'), lock.replace(/^\d+/, String(bystander.pid)));
      const again = server('g', port);
      const url = await again.start();
      expect(await servedFolder(url)).toBe(path.join(root, 'g', 'postgres'));
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
    } finally {
      bystander.kill('SIGKILL');
    }
  }, 60_000);

  it('a second process on the data folder of a running server but on another port: an error naming the port it runs on', async () => {
    const port = await freePort();
    await server('h', port).start();
    const other = await freePort();
    const error = await failure(server('h', other).start());
    expect(error.message).toContain(`EMBEDDED_PG_PORT=${port}`);
    expect(error.context).toMatchObject({ port: other, runningPort: port });
  }, 60_000);
});

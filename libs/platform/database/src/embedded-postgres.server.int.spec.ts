import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgresServer } from './embedded-postgres.server';

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
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
    await query(url, 'CREATE TABLE kept (value text); INSERT INTO kept VALUES ($$survives restarts$$)');
    await first.stop();

    const second = new EmbeddedPostgresServer(options);
    await second.start();
    try {
      expect(await query(url, 'SELECT value FROM kept')).toEqual([{ value: 'survives restarts' }]);
      expect(logs.some((line) => line.includes('reusing embedded PostgreSQL data'))).toBe(true);
      expect(logs.some((line) => line.includes(options.dataDir))).toBe(true);

      // A CLI command started while the app runs shares the server and leaves it running.
      const visitor = new EmbeddedPostgresServer(options);
      await visitor.start();
      await visitor.stop();
      expect(logs.some((line) => line.includes(`using the embedded PostgreSQL of process ${process.pid}`))).toBe(true);
      expect(await query(url, 'SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 1 }]);
    } finally {
      await second.stop();
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
      expect(await query(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await second.stop();
      await first.stop(); // already gone: a no-op
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
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
    } finally {
      await second.stop();
    }
  }, 60_000);
});

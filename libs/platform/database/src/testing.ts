/**
 * @modulith/database/testing — helpers for integration tests. Never imported by production code.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DatabaseConfig } from './database.config';

/** The server tests run against: the local PostgreSQL unless TEST_DATABASE_URL says otherwise. */
export const TEST_SERVER_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  name: string;
  config: DatabaseConfig;
  /** Drops the database, closing whatever connections are left. */
  drop(): Promise<void>;
}

async function connectToTestServer(): Promise<Client> {
  const client = new Client({ connectionString: TEST_SERVER_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(
      `Integration tests need a real PostgreSQL at ${redact(TEST_SERVER_URL)} (${(error as Error).message}). ` +
        'Start the local server (Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) ' +
        'or point TEST_DATABASE_URL at one.',
    );
  }
}

/** Creates an empty database of its own for one test file, so test files can run in parallel. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `modulith_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = await connectToTestServer();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(TEST_SERVER_URL, name);
  return {
    url,
    name,
    config: { url, poolSize: 10, dataDir: '', embeddedPort: 0, migrateOnStart: true },
    async drop() {
      const client = await connectToTestServer();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

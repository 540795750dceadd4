import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The server tests run against: the local PostgreSQL unless `TEST_DATABASE_URL` says otherwise. */
export const TEST_SERVER_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** An empty database of one test file's own on the test server. */
export interface TestDatabase {
  /** Its connection URL (`postgres://…/modulith_<label>_<8 hex>`). */
  url: string;
  /** Its name. */
  name: string;
  /** Drops the database, closing whatever connections are left. */
  drop(): Promise<void>;
}

/** A client of the test server (`serverUrl`, default `TEST_SERVER_URL`); fails saying how to start PostgreSQL when none answers. */
export async function connectToTestServer(serverUrl = TEST_SERVER_URL): Promise<Client> {
  const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(
      `Integration tests need a real PostgreSQL at ${redact(serverUrl)} (${(error as Error).message}). ` +
        'Start the local server (Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) ' +
        'or point TEST_DATABASE_URL at one.',
    );
  }
}

/**
 * Creates an empty database of its own for one test file, so test files can run in parallel.
 * `label` (letters, digits, `_`; anything else becomes `_`) makes its name easy to spot.
 * `serverUrl` names another server (the benchmarks' `BENCH_PG_URL`). Throws, saying how to start
 * PostgreSQL, when the server does not answer.
 */
export async function createTestDatabase(label = 'test', options: { serverUrl?: string } = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? TEST_SERVER_URL;
  const name = `modulith_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = await connectToTestServer(serverUrl);
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    name,
    async drop() {
      const client = await connectToTestServer(serverUrl);
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** What {@link terminateBackends} ended. */
export interface TerminatedBackends {
  /** Backends `pg_terminate_backend` signalled. */
  terminated: number;
  /** Of those, the ones that had a transaction open. */
  inTransaction: number;
}

/**
 * Terminates the client backends of one database (never the caller's own), optionally only those
 * whose `application_name` matches the LIKE pattern `applicationName`, or only those inside a
 * transaction. Only ever that database's: with `pg_terminate_backend(pid)` in a WHERE clause
 * beside `datname = ...`, PostgreSQL may call it while scanning pg_stat_get_activity, before the
 * join to pg_database that the database filter needs, and so end every matching backend of the
 * whole server (other test files' connections included). The victims are chosen in a
 * materialized step first, and only then terminated.
 */
export async function terminateBackends(
  client: Pick<Client, 'query'>,
  database: string,
  options: { applicationName?: string; inTransactionOnly?: boolean } = {},
): Promise<TerminatedBackends> {
  const { rows } = await client.query<{ terminated: number; in_transaction: number }>(
    `WITH victims AS MATERIALIZED (
       SELECT pid, xact_start IS NOT NULL AS in_transaction FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
          AND application_name LIKE $2 AND (NOT $3 OR xact_start IS NOT NULL)
     ), ended AS MATERIALIZED (
       SELECT in_transaction, pg_terminate_backend(pid) AS done FROM victims
     )
     SELECT count(*) FILTER (WHERE done)::int AS terminated, count(*) FILTER (WHERE done AND in_transaction)::int AS in_transaction FROM ended`,
    [database, options.applicationName ?? '%', options.inTransactionOnly ?? false],
  );
  return { terminated: rows[0].terminated, inTransaction: rows[0].in_transaction };
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

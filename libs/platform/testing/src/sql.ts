import { Client } from 'pg';

/** Runs one statement (`values` bind `$1`, `$2`, …) and resolves with its rows, typed as the caller says. */
export type Sql = <T>(text: string, values?: unknown[]) => Promise<T[]>;

/** What {@link sqlOnClient} runs statements on: a connected `pg` Client, or anything that queries like one. */
export interface SqlClient {
  /** Runs `text` with `values` bound; `rows` is what {@link Sql} resolves with. */
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * `sql` on a client the test holds: it connects and ends the client itself, and every statement
 * goes over that one connection (its session, its `application_name`). Pass a getter when the
 * client is assigned later, in `beforeAll`/`beforeEach`: `const sql = sqlOnClient(() => client)`.
 */
export function sqlOnClient(client: SqlClient | (() => SqlClient)): Sql {
  const current = typeof client === 'function' ? client : () => client;
  return async <T>(text: string, values?: unknown[]): Promise<T[]> => (await current().query(text, values)).rows as T[];
}

/**
 * `sql` that opens a client of its own for each statement and always ends it, also when the
 * statement or the connection fails, so the test holds no connection between looks (one that a
 * fault test terminates, or that the app under test would count). Pass a getter when the database
 * is created later, in `beforeAll`: `const sql = sqlOneShot(() => db.url)`.
 */
export function sqlOneShot(connectionString: string | (() => string)): Sql {
  const current = typeof connectionString === 'function' ? connectionString : () => connectionString;
  return async <T>(text: string, values?: unknown[]): Promise<T[]> => {
    const client = new Client({ connectionString: current() });
    try {
      await client.connect();
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  };
}

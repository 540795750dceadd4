import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import { Client, DatabaseError } from 'pg';
import { EmbeddedPostgresPortConflictError } from './embedded-postgres.errors';

/** Who answers on a loopback port. */
export type PortOccupant =
  | { kind: 'free' }
  /** A PostgreSQL; `dataDir` when it let us read `data_directory`, else why not. */
  | { kind: 'postgres'; dataDir?: string; detail?: string }
  | { kind: 'other'; detail: string };

/**
 * Asks whoever listens on 127.0.0.1:`port` for its data folder, the way our own server is
 * reached (user postgres, trust). A refused connection means the port is free; an answer in
 * PostgreSQL's protocol (even a refusal) means a PostgreSQL; anything else is another process.
 */
export async function probePort(port: number, timeoutMs: number): Promise<PortOccupant> {
  // A dummy password: a server that wants one refuses in its own protocol instead of pg
  // failing locally for want of a password.
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password: 'modulith-probe', database: 'postgres', connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined); // a server that drops us after connecting must not crash the app
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    return { kind: 'postgres', dataDir: rows[0]?.data_directory };
  } catch (error) {
    if ((error as { code?: string }).code === 'ECONNREFUSED') return { kind: 'free' };
    const detail = (error as Error).message ?? String(error);
    return error instanceof DatabaseError ? { kind: 'postgres', detail } : { kind: 'other', detail };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** True when both paths name one folder, through symbolic links too. */
export function sameFolder(a: string, b: string): boolean {
  const real = (dir: string) => {
    try {
      return realpathSync(dir);
    } catch {
      return path.resolve(dir);
    }
  };
  return real(a) === real(b);
}

/** The error for a port that `occupant` holds while `dataDir` wants it. */
export function portConflict(port: number, dataDir: string, occupant: Exclude<PortOccupant, { kind: 'free' }>): EmbeddedPostgresPortConflictError {
  const otherDataDir = occupant.kind === 'postgres' ? occupant.dataDir : undefined;
  const who = otherDataDir
    ? `it is taken by the PostgreSQL of data folder ${otherDataDir}`
    : occupant.kind === 'postgres'
      ? `it is taken by a PostgreSQL server that did not tell its data folder (${occupant.detail})`
      : `it is taken by a process that does not answer as PostgreSQL (${occupant.detail})`;
  const share = otherDataDir ? `, or set DATA_DIR so that the data folder is ${otherDataDir} to share that server's data on purpose` : '';
  return new EmbeddedPostgresPortConflictError(
    `the embedded PostgreSQL for data folder ${dataDir} cannot use port 127.0.0.1:${port}: ${who}. Set EMBEDDED_PG_PORT to a free port${share}`,
    { port, dataDir, otherDataDir, detail: occupant.kind === 'postgres' && otherDataDir ? undefined : occupant.detail },
  );
}

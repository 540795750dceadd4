// A PostgreSQL server of one test's own (initdb and pg_ctl from PATH), for faults that the shared
// test server must never see: crashed (immediate stop: what its WAL buffers held is lost) and
// started again on the same data folder.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** Settings that keep asynchronous commits in the WAL buffers (unwritten) until a crash loses them. */
const LOSSY_SETTINGS = [
  // The WAL writer writes an asynchronous commit out after this at the latest (10 s is the most).
  'wal_writer_delay = 10000ms',
  // Nothing else writes WAL out on its own: no autovacuum commits, no background writer.
  'autovacuum = off',
  'bgwriter_lru_maxpages = 0',
  'checkpoint_timeout = 1h',
  'max_wal_size = 1GB',
  // A crash of the server, not of the machine: written WAL survives it in the OS cache.
  'fsync = off',
  'shared_buffers = 16MB',
  'max_connections = 80',
];

export class PrivatePostgres {
  private readonly dataDir: string;
  private readonly runAsPostgres = process.getuid?.() === 0;

  constructor(readonly port: number) {
    const root = mkdtempSync(path.join(tmpdir(), 'modulith-pg-'));
    this.dataDir = path.join(root, 'data');
    if (this.runAsPostgres) chownSync(root, uidOf('postgres'), gidOf('postgres'));
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Creates the cluster and starts it. */
  init(): void {
    this.run('initdb', ['-D', this.dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync']);
    const settings = [`port = ${this.port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${path.dirname(this.dataDir)}'`, ...LOSSY_SETTINGS];
    writeFileSync(path.join(this.dataDir, 'postgresql.auto.conf'), `${settings.join('\n')}\n`);
    this.start();
  }

  start(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-l', path.join(path.dirname(this.dataDir), 'postgres.log'), '-w', 'start']);
  }

  /** Stops it as a crash would: no shutdown checkpoint, WAL not yet written is gone. */
  crash(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }

  /** Stops it and removes its data. */
  destroy(): void {
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

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}

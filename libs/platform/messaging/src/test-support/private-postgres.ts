// A PostgreSQL server of one test's own (the embedded one the app starts by default), for faults that the shared
// test server must never see: a crash that loses the asynchronous commits still in its WAL buffers.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgresServer } from '@modulith/database';
import { eventually } from '@modulith/testing';

// Nothing writes WAL out behind the test's back: no autovacuum commits, no checkpoint on a timer.
const SETTINGS = { autovacuum: 'off', checkpoint_timeout: '1h', max_wal_size: '1GB', fsync: 'off' };

/** The platform's embedded server (`EmbeddedPostgresServer`) on a data folder of its own, and ways to crash it. */
export class PrivatePostgres {
  private readonly root = mkdtempSync(path.join(tmpdir(), 'modulith-pg-'));
  private readonly server: EmbeddedPostgresServer;
  private walWriter?: number;

  constructor(readonly port: number) {
    // The server may run as user postgres (when the tests run as root): it must reach its folder.
    chmodSync(this.root, 0o755);
    this.server = new EmbeddedPostgresServer({ dataDir: path.join(this.root, 'data'), port, log: () => undefined });
  }

  get url(): string {
    return this.server.url;
  }

  /** Creates the cluster, starts it and applies `SETTINGS`. */
  async init(): Promise<void> {
    await this.server.start();
    const client = await this.connect();
    try {
      for (const [name, value] of Object.entries(SETTINGS)) await client.query(`ALTER SYSTEM SET ${name} = '${value}'`);
      await client.query('SELECT pg_reload_conf()');
    } finally {
      await client.end();
    }
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
  async destroy(): Promise<void> {
    if (this.walWriter !== undefined) process.kill(this.walWriter, 'SIGCONT');
    await this.server.stop().catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
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

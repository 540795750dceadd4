/**
 * What a database's sessions are doing, sampled from pg_stat_activity every 20 ms: the stand-in
 * for pg_stat_statements, which needs shared_preload_libraries (not set on the shared server,
 * and not ours to change). `Client:ClientRead` means PostgreSQL waits for the application.
 */
import { Client } from 'pg';

export class WaitSampler {
  private readonly counts = new Map<string, number>();
  private samples = 0;
  private running = false;
  private loop?: Promise<void>;
  private client?: Client;

  constructor(private readonly databaseUrl: string) {}

  async start(): Promise<void> {
    this.client = new Client({ connectionString: this.databaseUrl });
    // A session ended by the server (e.g. pg_terminate_backend from another user of a shared
    // server) must not crash the scenario: sampling stops and what was sampled is kept.
    this.client.on('error', () => (this.running = false));
    await this.client.connect();
    const database = new URL(this.databaseUrl).pathname.slice(1);
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const result = await this.client!.query<{ wait: string; query: string }>(
          `SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') AS wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 48) AS query
             FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state NOT IN ('idle')`,
          [database],
        ).catch(() => undefined);
        if (!result) break;
        const { rows } = result;
        this.samples += 1;
        for (const row of rows) this.counts.set(`${row.wait} | ${row.query.trim()}`, (this.counts.get(`${row.wait} | ${row.query.trim()}`) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
  }

  /** The most frequent (wait, statement) pairs: how many sessions were in them on average. */
  async stop(top = 12): Promise<{ samples: number; rows: { wait: string; statement: string; sessions: number }[] }> {
    this.running = false;
    await this.loop;
    await this.client?.end().catch(() => undefined);
    const rows = [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, count]) => {
        const [wait, statement] = key.split(' | ');
        return { wait, statement, sessions: count / Math.max(1, this.samples) };
      });
    return { samples: this.samples, rows };
  }
}

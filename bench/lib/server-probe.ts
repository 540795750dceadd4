/**
 * What the server gives one client right now, measured in a scratch database: a round trip
 * (SELECT 1) and a single-row INSERT commit (WAL flush). On a shared machine these move with
 * everyone else's load, and every pipeline latency sits on top of them.
 */
import { Client } from 'pg';
import { createDatabase } from './db';
import { Latencies, type LatencySummary } from './stats';

export async function probeServer(samples = 300): Promise<{ roundTrip: LatencySummary; commit: LatencySummary }> {
  const database = await createDatabase('probe');
  const client = new Client({ connectionString: database.url });
  try {
    await client.connect();
    await client.query('CREATE TABLE t (x int)');
    const roundTrip = new Latencies();
    const commit = new Latencies();
    for (let i = 0; i < samples; i += 1) {
      let t0 = performance.now();
      await client.query('SELECT 1');
      roundTrip.recordMs(performance.now() - t0);
      t0 = performance.now();
      await client.query('INSERT INTO t VALUES (1)');
      commit.recordMs(performance.now() - t0);
    }
    return { roundTrip: roundTrip.summary(), commit: commit.summary() };
  } finally {
    await client.end().catch(() => undefined);
    await database.drop();
  }
}

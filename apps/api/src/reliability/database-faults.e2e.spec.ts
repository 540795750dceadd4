import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { EmbeddedPostgresServer } from '@modulith/database';
import { createTestDatabase, eventually, freePort, terminateBackends, TEST_SERVER_URL, waitForDrain, type AppProcess, type TestDatabase } from '@modulith/testing';
import { startApi } from '../testing/app-processes';
import { makeTransfers } from '../testing/transfer-load';
import { ingestUntilAcknowledged } from './retrying-client';

const TOKEN = 'db-faults-admin-token';
const ADMIN = { authorization: `Bearer ${TOKEN}` };

interface Backlog {
  drained: boolean;
  outboxPending: number;
  /** In-process: relayed events some durable subscriber has not read from the event log yet. */
  logPending: number;
  retriesPending: number;
  deadLetters: number;
}

async function admin<T>(app: AppProcess, route: string): Promise<T> {
  const response = await fetch(`${app.baseUrl}/admin/${route}`, { headers: ADMIN, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`/admin/${route}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Waits for an empty outbox, event log and retry table, then asserts every invariant and no dead letter. */
async function expectDrainedAndConsistent(app: AppProcess, timeoutMs = 120_000): Promise<void> {
  const backlog = await waitForDrain(() => admin<Backlog>(app, 'pipeline'), { drained: (look) => look.drained, timeoutMs });
  expect(backlog.deadLetters).toBe(0);
  const report = await admin<{ ok: boolean; results: { name: string; ok: boolean; detail: string }[] }>(app, 'invariants');
  expect(report.results.filter((result) => !result.ok)).toEqual([]);
  expect(report.ok).toBe(true);
}

interface Backend {
  pid: number;
  application_name: string;
  state: string | null;
  query: string;
}

/** The app's server connections, by what they are doing right now. */
async function backendsOf(sql: Client, database: string): Promise<Backend[]> {
  const { rows } = await sql.query<Backend>(
    `SELECT pid, application_name, state, query FROM pg_stat_activity
      WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    [database],
  );
  return rows;
}

const inTransaction = (backend: Backend) => backend.state === 'active' || backend.state === 'idle in transaction';
const isRelay = (backend: Backend) => inTransaction(backend) && backend.query.includes('DELETE FROM messaging.outbox');
const isHandler = (backend: Backend) => inTransaction(backend) && !isRelay(backend) && /\.inbox|ledger\.|analytics\./.test(backend.query);
const isListener = (backend: Backend) => backend.application_name === 'modulith-relay-listener' && /LISTEN/i.test(backend.query);

describe('database faults: the app recovers by itself and the invariants hold', () => {
  describe('on the shared server: terminated connections', () => {
    let database: TestDatabase;
    let sql: Client;
    const apps: AppProcess[] = [];

    beforeAll(async () => {
      database = await createTestDatabase('dbfaults');
      sql = new Client({ connectionString: TEST_SERVER_URL });
      await sql.connect();
    });

    /** Databases of the runs of one test, dropped after it. */
    const runDatabases: TestDatabase[] = [];

    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.stop()));
      await Promise.all(runDatabases.splice(0).map((own) => own.drop()));
    });

    afterAll(async () => {
      await sql?.end();
      await database?.drop();
    });

    it('pg_terminate_backend on relay and handler transactions mid-flight: batches roll back, are redelivered, nothing is lost or doubled', async () => {
      const app = await startApi('app', { LOG_LEVEL: 'log', DATABASE_URL: database.url, ADMIN_TOKEN: TOKEN, RELAY_BATCH_SIZE: '200' });
      apps.push(app);
      const terminated = { relay: 0, handler: 0, listener: 0 };
      let stopping = false;
      // Only our test database's connections, and only those inside a relay or handler transaction.
      const terminator = (async () => {
        let lastRelay = 0;
        let lastHandler = 0;
        while (!stopping) {
          const backends = await backendsOf(sql, database.name);
          const now = Date.now();
          const relay = backends.find(isRelay);
          const handler = backends.find(isHandler);
          const victims: [keyof typeof terminated, Backend | undefined][] = [
            ['relay', relay && now - lastRelay > 150 && terminated.relay < 12 ? relay : undefined],
            ['handler', handler && now - lastHandler > 150 && terminated.handler < 12 ? handler : undefined],
            ['listener', terminated.listener < 2 && terminated.relay >= 4 * (terminated.listener + 1) ? backends.find(isListener) : undefined],
          ];
          for (const [kind, victim] of victims) {
            if (!victim) continue;
            const { rows } = await sql.query<{ done: boolean }>('SELECT pg_terminate_backend($1) AS done', [victim.pid]);
            if (!rows[0]?.done) continue;
            terminated[kind] += 1;
            if (kind === 'relay') lastRelay = now;
            if (kind === 'handler') lastHandler = now;
          }
          await sleep(5);
        }
      })();

      const transfers = makeTransfers(20_000, 500, 'terminate');
      try {
        const stats = await ingestUntilAcknowledged(() => app.baseUrl, transfers, { batch: 250, concurrency: 2 });
        expect(stats.accepted).toBe(transfers.length);
        // Keep terminating while the pipeline catches up, until enough faults have landed.
        await eventually(async () => terminated.relay >= 5 && terminated.handler >= 5, { message: 'enough terminated transactions', timeoutMs: 60_000 });
      } finally {
        stopping = true;
        await terminator;
      }
      console.log(`terminated: ${JSON.stringify(terminated)}`);

      await expectDrainedAndConsistent(app);
      expect(app.child.exitCode).toBeNull();
      expect(app.output()).toMatch(/relay batch failed \(\d+ in a row\), its events stay in the outbox/);
      // The LISTEN connection came back after each termination.
      expect(terminated.listener).toBeGreaterThan(0);
      await eventually(async () => (await backendsOf(sql, database.name)).some(isListener), { message: 'the LISTEN connection to be re-established', timeoutMs: 15_000 });
    }, 300_000);

    it('a 409 loop and batch load while every backend is terminated six times, 0.7 s apart: the process never exits, answers are 2xx, 409 or 503', async () => {
      // The trigger, several runs: one in four used to die of an unhandled 'error' event.
      // Each run has a fresh app process on a database of its own, so runs can overlap: the
      // faults each app sees are the same, only the machine is shared (E2E_TERMINATE_PARALLEL).
      const runs = Number(process.env['E2E_TERMINATE_RUNS'] ?? 6);
      const parallel = Number(process.env['E2E_TERMINATE_PARALLEL'] ?? 2);
      // A value that is not a count would run nothing, and pass.
      expect({ runs: Number.isInteger(runs) && runs > 0, parallel: Number.isInteger(parallel) && parallel > 0 }).toEqual({ runs: true, parallel: true });
      const terminateRun = async (run: number): Promise<void> => {
        const own = await createTestDatabase(`dbfaults_run${run}`);
        runDatabases.push(own);
        const app = await startApi('app', { LOG_LEVEL: 'log', DATABASE_URL: own.url, ADMIN_TOKEN: TOKEN });
        apps.push(app);
        const seen = new Map<number, number>();
        const withoutRetryAfter: number[] = [];
        let stopping = false;
        const post = async (transfers: unknown[]) => {
          let status = 0;
          try {
            const response = await fetch(`${app.baseUrl}/transfers/batch`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ transfers }),
              signal: AbortSignal.timeout(30_000),
            });
            await response.arrayBuffer();
            status = response.status;
            if (status === 503 && !response.headers.get('retry-after')) withoutRetryAfter.push(status);
          } catch {
            status = 0; // no answer: the process is gone, or it hung
          }
          seen.set(status, (seen.get(status) ?? 0) + 1);
        };
        const [taken] = makeTransfers(1, 50, `conflict-${run}`);
        await post([taken]);
        const loops = [
          ...[0, 1].map((worker) => (async () => {
            for (let batch = 0; !stopping; batch++) await post(makeTransfers(200, 50, `load-${run}-${worker}-${batch}`));
          })()),
          ...[0, 1].map(() => (async () => {
            while (!stopping) await post([{ ...taken, amount: `${BigInt(taken.amount) + 1n}` }]);
          })()),
        ];
        try {
          await sleep(1000);
          for (let round = 0; round < 6; round++) {
            await terminateBackends(sql, own.name);
            await sleep(700);
          }
          await sleep(1000);
        } finally {
          stopping = true;
          await Promise.all(loops);
        }
        console.log(`run ${run}: answers by status ${JSON.stringify([...seen])}`);
        if (app.child.exitCode !== null) console.log(app.output().slice(-3000));
        expect(app.child.exitCode).toBeNull();
        expect([...seen.keys()].filter((status) => ![201, 409, 503].includes(status))).toEqual([]);
        expect(seen.get(409)).toBeGreaterThan(0);
        expect(withoutRetryAfter).toEqual([]);
        await expectDrainedAndConsistent(app);
        await app.stop();
      };
      // After a failure no run starts, and the test ends once the runs in progress have ended.
      let next = 0;
      let failed = false;
      const worker = async () => {
        for (let run = next++; run < runs && !failed; run = next++) {
          try {
            await terminateRun(run);
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      };
      const outcomes = await Promise.allSettled(Array.from({ length: Math.min(parallel, runs) }, worker));
      const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failure) throw failure.reason;
    }, 600_000);

    it('re-establishes LISTEN after its connection is terminated: another process\'s commits still wake the relay', async () => {
      // The relay process polls only every 10 minutes, so only NOTIFY can wake it in time;
      // the ingesting process runs no relay and reaches it only through NOTIFY.
      const relayProcess = await startApi('app', { LOG_LEVEL: 'log', DATABASE_URL: database.url, ADMIN_TOKEN: TOKEN, RELAY_POLL_INTERVAL_MS: '600000' });
      const ingestProcess = await startApi('app', { LOG_LEVEL: 'log', DATABASE_URL: database.url, MODULES: 'ingestion', RELAY_ENABLED: 'false' });
      apps.push(relayProcess, ingestProcess);
      const drainedWithin = async (ms: number) =>
        eventually(async () => (await admin<Backlog>(relayProcess, 'pipeline')).outboxPending === 0, { message: 'the relay process to drain what the other process ingested', timeoutMs: ms, pollMs: 100 });

      await ingestUntilAcknowledged(() => ingestProcess.baseUrl, makeTransfers(200, 50, 'listen-a'));
      await drainedWithin(10_000);

      const listeners = (await backendsOf(sql, database.name)).filter(isListener);
      expect(listeners).toHaveLength(1);
      await sql.query('SELECT pg_terminate_backend($1)', [listeners[0].pid]);
      const back = await eventually(
        async () => (await backendsOf(sql, database.name)).find((backend) => isListener(backend) && backend.pid !== listeners[0].pid),
        { message: 'a new LISTEN connection', timeoutMs: 15_000 },
      );
      expect(back.pid).not.toBe(listeners[0].pid);

      await ingestUntilAcknowledged(() => ingestProcess.baseUrl, makeTransfers(200, 50, 'listen-b'));
      await drainedWithin(10_000);
      await expectDrainedAndConsistent(relayProcess);
      expect(relayProcess.output()).toContain('LISTEN connection lost');
    }, 180_000);
  });

  describe('on a private server: PostgreSQL restarted mid-run', () => {
    let dir: string;
    let port: number;
    let server: EmbeddedPostgresServer;
    let app: AppProcess | undefined;
    const log: string[] = [];

    const newServer = () => new EmbeddedPostgresServer({ dataDir: path.join(dir, 'postgres'), port, log: (line) => log.push(line) });
    const postmasterPid = () => Number(readFileSync(path.join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'modulith-pg-restart-'));
      chmodSync(dir, 0o755); // the server runs as user postgres, which must reach its data folder
      port = await freePort();
      server = newServer();
      await server.start();
    }, 120_000);

    afterAll(async () => {
      await app?.stop();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('survives a fast shutdown and a crash (SIGKILL of the postmaster) of its server while ingesting', async () => {
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      app = await startApi('app', { LOG_LEVEL: 'log', DATABASE_URL: url, ADMIN_TOKEN: TOKEN });
      const running = app;
      // Paced so that ingestion spans both outages.
      const transfers = makeTransfers(24_000, 400, 'restart');
      const ingesting = ingestUntilAcknowledged(() => running.baseUrl, transfers, { batch: 100, concurrency: 2, paceMs: 60, timeoutMs: 240_000 });

      // Fast shutdown (open transactions roll back), down for two seconds, back.
      await sleep(1500);
      await server.stop();
      await sleep(2000);
      server = newServer();
      await server.start();

      // A crash: the postmaster killed outright; the next start runs crash recovery.
      await sleep(1500);
      const pid = postmasterPid();
      process.kill(pid, 'SIGKILL');
      await eventually(async () => !isAlive(pid), { message: 'the killed postmaster to be gone', timeoutMs: 10_000, pollMs: 50 });
      await sleep(1000);
      server = newServer();
      await eventually(async () => server.start().then(() => true), { message: 'the crashed server to start again', timeoutMs: 60_000, pollMs: 500 });

      const stats = await ingesting;
      console.log(`failed attempts by status (0: no answer): ${JSON.stringify([...stats.failures])}`);
      expect(stats.accepted).toBe(transfers.length);
      expect(stats.failures.size).toBeGreaterThan(0); // the outages did land mid-ingestion
      // While the server was down the client was told to retry (no answer or 503), never a 500.
      const unexpected = [...stats.failures.keys()].filter((status) => status !== 0 && status !== 503);
      // Name the cause in the test output: the app logs each 500 with its error.
      if (unexpected.length > 0) console.log(running.output().split('\n').filter((line) => /"level":"error"/.test(line)).slice(0, 5).join('\n'));
      expect(unexpected).toEqual([]);

      await expectDrainedAndConsistent(running);
      const sql = new Client({ connectionString: url });
      await sql.connect();
      try {
        const [{ count }] = (await sql.query('SELECT count(*)::int AS count FROM ingestion.transfers')).rows;
        expect(count).toBe(transfers.length);
        await eventually(async () => (await backendsOf(sql, 'postgres')).some(isListener), { message: 'LISTEN to be re-established', timeoutMs: 15_000 });
      } finally {
        await sql.end();
      }
      expect(running.child.exitCode).toBeNull();
    }, 400_000);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { createTestDatabase, eventually, sqlOnClient, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads } from '../test-support/fixture-events';
import type { Producer } from '../test-support/fixture-modules';
import { orderProblems } from '../test-support/ordered-checks';
import { OrderedControl } from '../test-support/ordered-events';
import { OrderedProducer, orderedFixtureModules } from '../test-support/ordered-modules';
import { orderingKeys } from '../test-support/ordered-workload';

// Rounds of "start a child running the relay and both subscribers, SIGKILL it at a random
// moment" while events keep being published (by this process and by the child). CI runs the
// default; set CRASH_ROUNDS for a longer soak.
const ROUNDS = Number(process.env['CRASH_ROUNDS'] ?? 12);
const REGISTER = path.join(__dirname, '..', 'test-support', 'ts-register.cjs');
const CHILD = path.join(__dirname, 'crash-child.fixture.ts');

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  output: string[];
}

/** Children not yet exited: killed in afterAll if a failed wait left one running (it would keep Jest alive). */
const running = new Set<ChildProcess>();

function startChild(url: string, extraEnv: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['-r', REGISTER, CHILD], {
    env: { ...process.env, CRASH_DATABASE_URL: url, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before it was ready: ${output.join('')}`)));
  });
  ready.catch(() => undefined);
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, ready, exited, output };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('crash safety (SIGKILL of a process running the relay and subscribers)', () => {
  let db: TestDatabase;
  let sql: Client;
  let producerApp: INestApplicationContext;
  let producer: Producer;
  let ordered: OrderedProducer;

  beforeAll(async () => {
    db = await createTestDatabase('crash');
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    // This process only publishes: no relay, no subscribers.
    ({ app: producerApp, producer } = await createFixtureApp({
      database: databaseTestConfig(db.url),
      messaging: { relayEnabled: false },
      consumers: [],
      imports: orderedFixtureModules(new OrderedControl(), []),
    }));
    ordered = producerApp.get(OrderedProducer, { strict: false });
  });

  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await producerApp?.close();
    await sql?.end();
    await db?.drop();
  });

  it(`applies every event exactly once per subscriber across ${ROUNDS} kills`, async () => {
    let producing = true;
    // Keyed events (over keys the children use too) once the first child registered their
    // subscribers: a subscriber starts every key from its first start.
    let keyed = false;
    const keys = orderingKeys('crash', 20);
    let seq = 0;
    const publishing = (async () => {
      while (producing) {
        const size = 1 + Math.floor(Math.random() * 30);
        await producer.publish(payloads(seq, size));
        if (keyed && seq % 3 === 0) await ordered.publish(Array.from({ length: 1 + (seq % 5) }, (_, index) => ({ key: keys[(seq + index * 3) % keys.length], label: `parent-${seq}-${index}` })));
        seq += size;
        await sleep(10 + Math.random() * 20);
      }
    })();

    let killedInFlight = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const child = startChild(db.url, { CRASH_SEQ_BASE: String(1_000_000 * (round + 1)) });
      // Most kills land while the child relays; every fourth one during start-up (migrations, discovery).
      if (round % 4 === 3) await sleep(Math.random() * 400);
      else {
        await child.ready;
        keyed = true;
        await sleep(100 + Math.random() * 600);
      }
      const [{ open }] = (
        // The app's pool (producers) and messaging's ('modulith-messaging': claims, handler batches).
        await sql.query(
          `SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND application_name IN ('modulith', 'modulith-messaging')`,
          [db.name],
        )
      ).rows as { open: number }[];
      child.process.kill('SIGKILL');
      await child.exited;
      if (open > 0) killedInFlight += 1;
    }
    producing = false;
    await publishing;

    // A last, undisturbed run drains what is left, then shuts down gracefully.
    const last = startChild(db.url, { CRASH_PRODUCE: 'false' });
    await last.ready;
    await eventually(
      async () => {
        const { rows } = await sql.query(
          `SELECT (SELECT count(*) FROM messaging.outbox) + (SELECT count(*) FROM messaging.retries)
                + (SELECT coalesce(sum(count), 0) FROM messaging.event_log WHERE position > (SELECT min(position) FROM messaging.log_cursors)) AS left`,
        );
        return Number(rows[0].left) === 0;
      },
      // A bound, not a timing: alpha takes one event per transaction (11k events took over 60 s under load).
      { timeoutMs: 150_000, message: 'the last child to drain the outbox, the event log and retries' },
    ).catch(async (error: Error) => {
      const { rows } = await sql.query(
        `SELECT (SELECT count(*) FROM messaging.outbox)::int AS outbox,
                (SELECT count(*) FROM producer.things)::int AS published, (SELECT count(*) FROM alpha.effects)::int AS alpha, (SELECT count(*) FROM beta.effects)::int AS beta,
                (SELECT json_agg(r) FROM (SELECT subscriber, held, count(*) AS n, min(ordering_key) AS some_key FROM messaging.retries GROUP BY 1, 2) r) AS retries,
                (SELECT json_agg(c) FROM messaging.log_cursors c) AS cursors, (SELECT max(position) FROM messaging.event_log) AS head`,
      );
      throw new Error(`${error.message}: ${JSON.stringify(rows[0])}; last child: ${last.output.join('').slice(-2000)}`);
    });
    last.process.kill('SIGTERM');
    expect(await last.exited).toBe(0);

    const published = (await sql.query('SELECT event_id FROM producer.things ORDER BY event_id')).rows.map((row) => row.event_id as string);
    expect(published.length).toBeGreaterThan(ROUNDS * 10);
    for (const schema of ['alpha', 'beta']) {
      const handled = (await sql.query(`SELECT event_id FROM ${schema}.effects ORDER BY event_id`)).rows.map((row) => row.event_id as string);
      expect({ schema, count: handled.length, duplicates: handled.length - new Set(handled).size }).toEqual({ schema, count: published.length, duplicates: 0 });
      expect(handled).toEqual(published);
    }
    // Each key's events were applied in keySeq order, each once, by both keyed subscribers.
    const query = sqlOnClient(sql);
    expect((await query<{ n: number }>('SELECT count(*)::int AS n FROM ordered_producer.sent'))[0].n).toBeGreaterThan(ROUNDS * 10);
    expect(await orderProblems(query, 'serial')).toEqual([]);
    expect(await orderProblems(query, 'batched')).toEqual([]);
    expect((await sql.query('SELECT count(*)::int AS n FROM messaging.dead_letters')).rows[0].n).toBe(0);
    // The test only means something if kills hit open transactions (claims, handler batches).
    expect(killedInFlight).toBeGreaterThan(ROUNDS / 3);
  }, 300_000);
});

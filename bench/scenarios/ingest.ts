/**
 * Scenario `ingest`: HTTP batch ingest alone (POST /transfers/batch; the relay is off so nothing
 * else runs) against raw multi-row INSERTs of the same rows, on the same server, with the same
 * batch size and number of requests in flight: once into a copy of the transfers table, once
 * into copies of both tables the endpoint writes (transfers and the outbox).
 */
import { Pool } from 'pg';
import { uuidv7 } from '@modulith/core';
import { sizes } from '../lib/config';
import { nowMs, progress } from '../lib/ipc';
import { produceAll } from '../lib/load';
import type { Check, ScenarioResult } from '../lib/scenario';
import { fmtInt, median, ratio } from '../lib/stats';
import { transfers, type Transfer } from '../lib/transfers';
import { AppContender } from './pipeline/contenders';

const COLUMNS = 'id, from_account, to_account, amount, currency, occurred_at';

function valuesList(rows: number, columns: number, offset = 0): string {
  return Array.from({ length: rows }, (_, r) => `(${Array.from({ length: columns }, (_, c) => `$${offset + r * columns + c + 1}`).join(', ')})`).join(', ');
}

const flat = (batch: Transfer[]): unknown[] => batch.flatMap((t) => [t.id, t.from, t.to, t.amount, t.currency, t.occurredAt]);

export async function run(): Promise<ScenarioResult> {
  const { transfers: n, batch, concurrency } = sizes.ingest;
  const runs = sizes.runs;
  const app = new AppContender('ingest', 'HTTP', 'ingest-only');
  const checks: Check[] = [];
  const rates: Record<string, number[]> = { http: [], raw: [], rawOutbox: [] };
  let pool: Pool | undefined;
  const total = 2 + (runs + 1) * 3;
  let done = 0;
  try {
    progress('ingest: starting the app', done++, total);
    await app.start();
    pool = new Pool({ connectionString: app.databaseUrl, max: concurrency });
    await pool.query(`
      CREATE SCHEMA raw;
      CREATE TABLE raw.transfers (LIKE ingestion.transfers INCLUDING ALL);
      CREATE TABLE raw.outbox (LIKE messaging.outbox INCLUDING ALL)`);
    const count = async (table: string): Promise<number> => Number((await pool!.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

    const sides: Record<string, { table: string; produce: (prefix: string) => (from: number, count: number) => Promise<void> }> = {
      http: {
        table: 'ingestion.transfers',
        produce: (prefix) => {
          const client = app.http;
          return async (from, size) => {
            const result = (await client.postJson('/transfers/batch', { transfers: transfers(prefix, from, size) }, 201)) as { accepted: number };
            if (result.accepted !== size) throw new Error(`accepted ${result.accepted} of ${size}`);
          };
        },
      },
      raw: {
        table: 'raw.transfers',
        produce: (prefix) => async (from, size) => {
          const rows = transfers(prefix, from, size);
          await pool!.query(`INSERT INTO raw.transfers (${COLUMNS}) VALUES ${valuesList(size, 6)}`, flat(rows));
        },
      },
      rawOutbox: {
        table: 'raw.transfers',
        produce: (prefix) => async (from, size) => {
          const rows = transfers(prefix, from, size);
          const client = await pool!.connect();
          try {
            await client.query('BEGIN');
            await client.query(`INSERT INTO raw.transfers (${COLUMNS}) VALUES ${valuesList(size, 6)}`, flat(rows));
            const now = new Date().toISOString();
            const correlation = uuidv7();
            const params = rows.flatMap((t) => [uuidv7(), 'ingestion.transfer-ingested', 1, now, 'ingestion', correlation, JSON.stringify({ transferId: t.id, from: t.from, to: t.to, amount: t.amount, currency: t.currency, occurredAt: t.occurredAt })]);
            await client.query(`INSERT INTO raw.outbox (id, type, version, occurred_at, source, correlation_id, payload) VALUES ${valuesList(size, 7)}`, params);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          } finally {
            client.release();
          }
        },
      },
    };
    const reset = async (): Promise<void> => {
      await pool!.query('TRUNCATE ingestion.transfers, messaging.outbox, raw.transfers, raw.outbox');
    };
    let runNo = 0;
    for (let round = -1; round < runs; round += 1) {
      const order = Object.keys(sides);
      if (round > 0) order.push(...order.splice(0, round % order.length));
      for (const name of order) {
        const size = round < 0 ? Math.max(batch, Math.round(n / 4)) : n;
        progress(`ingest: ${round < 0 ? 'warm-up' : `round ${round + 1}/${runs}`}, ${name}`, done++, total);
        const prefix = `i${++runNo}`;
        const started = nowMs();
        await produceAll(size, batch, concurrency, sides[name].produce(prefix));
        const seconds = (nowMs() - started) / 1000;
        const stored = await count(sides[name].table);
        checks.push({ name: `${name} run ${prefix}: every row stored once`, ok: stored === size, detail: `${stored} of ${size}` });
        if (name === 'http') {
          const outbox = await count('messaging.outbox');
          checks.push({ name: `http run ${prefix}: one TransferIngested per transfer in the outbox`, ok: outbox === size, detail: `${outbox} of ${size}` });
        }
        if (round >= 0) rates[name].push(size / seconds);
        await reset();
      }
    }
  } finally {
    progress('ingest: done', total, total);
    await pool?.end();
    await app.stop();
  }
  const m = (name: string): number => median(rates[name]);
  const row = (label: string, name: string): string[] => [
    label,
    fmtInt(m(name)),
    `${fmtInt(Math.min(...rates[name]))}-${fmtInt(Math.max(...rates[name]))}`,
    ratio(m(name) / m('raw')),
    ratio(m(name) / m('rawOutbox')),
  ];
  return {
    name: 'ingest',
    title: 'Ingest: HTTP batch endpoint vs raw multi-row INSERT of the same rows',
    tables: [
      {
        caption: `${fmtInt(n)} transfers, ${fmtInt(batch)} per request/statement, ${concurrency} in flight; median of ${runs} runs (transfers/s)`,
        header: ['path', 'transfers/s', 'runs (min-max)', 'vs raw INSERT (transfers)', 'vs raw INSERT (transfers + outbox)'],
        rows: [
          row('POST /transfers/batch (validate, store, outbox, one transaction)', 'http'),
          row('raw multi-row INSERT, transfers only', 'raw'),
          row('raw multi-row INSERTs, transfers + outbox rows, one transaction', 'rawOutbox'),
        ],
      },
    ],
    checks,
    notes: ['The app runs with MODULES=ingestion and the relay off, so the endpoint is measured alone; the raw tables are copies (LIKE ... INCLUDING ALL) of the ones it writes, in the same database.'],
    data: { sizes: sizes.ingest, runs, rates },
  };
}

/**
 * The outbox the two bare-SQL contenders share: its table, the producer's one statement that
 * stores transfers and their events (UNNEST), and the claim of a batch
 * (`DELETE … FOR UPDATE SKIP LOCKED … RETURNING`).
 */
import type { Pool } from 'pg';
import { uuidv7 } from '@modulith/core';
import { BATCH } from '../../lib/config';
import type { Transfer } from '../../lib/transfers';
import { committed, transferColumns } from './peer';

export const OUTBOX_TABLE = `
  CREATE SCHEMA IF NOT EXISTS bare;
  CREATE TABLE IF NOT EXISTS bare.outbox (
    id uuid PRIMARY KEY, type text NOT NULL, version integer NOT NULL, occurred_at timestamptz NOT NULL,
    source text NOT NULL, correlation_id text NOT NULL, causation_id text, payload json NOT NULL)`;

const PRODUCE = `
  WITH stored AS (
    INSERT INTO app.transfers (id, from_account, to_account, amount, currency, occurred_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
    ON CONFLICT (id) DO NOTHING
    RETURNING id)
  INSERT INTO bare.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload)
  SELECT e.id, 'ingestion.transfer-ingested', 1, now(), 'ingestion', $9, NULL, e.payload
    FROM unnest($7::uuid[], $1::text[], $8::json[]) AS e(id, transfer_id, payload)
    JOIN stored ON stored.id = e.transfer_id`;

/** The rows of one claim (`claimed` names them in a CTE, for a statement that does more with them). */
export const CLAIMED = `
  DELETE FROM bare.outbox
   WHERE id = ANY (ARRAY(SELECT id FROM bare.outbox ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED))
  RETURNING id, payload`;

/** Stores a batch of transfers and one event each, in one statement; reports the commit to the probe. */
export async function produceBatch(pool: Pool, batch: Transfer[]): Promise<void> {
  const ids = batch.map(() => uuidv7());
  await pool.query(PRODUCE, [...transferColumns(batch), ids, batch.map((t) => JSON.stringify(t)), ids[0]]);
  committed(batch.map((t) => t.id));
}

export async function outboxLeft(pool: Pool): Promise<number> {
  return Number((await pool.query('SELECT count(*) AS n FROM bare.outbox')).rows[0].n);
}

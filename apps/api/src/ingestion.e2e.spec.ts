import { Client } from 'pg';
import type { TransferPage, TransferView } from '@modulith/ingestion/contracts';
import { MODULE_CATALOG } from './module-catalog';
import { startApp, type RunningApp } from './testing/app.fixture';
import { readError, readJson } from './testing/http-json';

const transfer = (id: string, patch: Record<string, unknown> = {}) => ({
  id,
  from: 'acc-1',
  to: 'acc-2',
  amount: '1250',
  currency: 'EUR',
  occurredAt: '2026-01-31T12:00:00Z',
  ...patch,
});

describe('ingestion over HTTP (whole app, real PostgreSQL)', () => {
  let running: RunningApp;
  let sql: Client;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${running.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const rowCount = async () => Number((await sql.query('SELECT count(*) FROM ingestion.transfers')).rows[0].count);

  beforeAll(async () => {
    running = await startApp();
    sql = new Client({ connectionString: running.database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await running?.close();
  });

  beforeEach(() => sql.query('TRUNCATE ingestion.transfers'));

  it('answers /health', async () => {
    const response = await fetch(`${running.baseUrl}/health`);
    expect(response.status).toBe(200);
    // Every module in the catalog, so a generated module joins without editing this test.
    expect(await response.json()).toEqual({ status: 'ok', modules: Object.keys(MODULE_CATALOG) });
  });

  it('stores one transfer, replays it idempotently and refuses other content under the same id', async () => {
    const created = await post('/transfers', transfer('t-1', { amount: 1250 }));
    expect(created.status).toBe(201);
    const body = await readJson<TransferView>(created);
    expect(body).toMatchObject({ ...transfer('t-1'), occurredAt: '2026-01-31T12:00:00.000Z' });
    expect(typeof body.amount).toBe('string');

    const replay = await post('/transfers', transfer('t-1'));
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual(body);

    const conflict = await post('/transfers', transfer('t-1', { amount: '1251' }));
    expect(conflict.status).toBe(409);
    expect((await readError(conflict)).message).toContain('t-1');
    expect(await rowCount()).toBe(1);
  });

  it('reads a transfer back, and 404s an unknown one', async () => {
    await post('/transfers', transfer('t-2', { amount: '9223372036854775807' }));
    const found = await fetch(`${running.baseUrl}/transfers/t-2`);
    expect((await readJson<TransferView>(found)).amount).toBe('9223372036854775807');
    const missing = await fetch(`${running.baseUrl}/transfers/t-404`);
    expect(missing.status).toBe(404);
    expect((await readError(missing)).message).toContain('t-404');
  });

  it('ingests a batch of 10,000 in one request and pages through an account', async () => {
    const transfers = Array.from({ length: 10_000 }, (_, i) => transfer(`b-${i}`, { from: i % 2 ? 'acc-1' : 'acc-3' }));
    const response = await post('/transfers/batch', { transfers });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ accepted: 10_000, replayed: 0 });

    const again = await post('/transfers/batch', { transfers: transfers.slice(0, 10) });
    expect(await again.json()).toEqual({ accepted: 0, replayed: 10 });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: TransferPage = await readJson(await fetch(`${running.baseUrl}/accounts/acc-3/transfers?limit=500${cursor ? `&cursor=${cursor}` : ''}`));
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5_000);
    expect(new Set(seen).size).toBe(5_000);
    expect(seen[0]).toBe('b-9998'); // newest first
  });

  it('returns the correlation id it was given, or makes one', async () => {
    const given = await fetch(`${running.baseUrl}/health`, { headers: { 'x-correlation-id': 'req-42' } });
    expect(given.headers.get('x-correlation-id')).toBe('req-42');
    const made = await fetch(`${running.baseUrl}/health`);
    expect(made.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  describe('bad input gets a 4xx naming the field and writes nothing', () => {
    it.each([
      ['wrong type', transfer('x', { amount: true }), 400, 'amount'],
      ['missing field', { id: 'x', from: 'a', to: 'b', amount: '1', occurredAt: '2026-01-01T00:00:00Z' }, 400, 'currency'],
      ['unknown field', transfer('x', { memo: 'hi' }), 400, 'memo'],
      ['negative amount', transfer('x', { amount: '-1' }), 400, 'amount'],
      ['zero amount', transfer('x', { amount: 0 }), 400, 'amount'],
      ['float amount', transfer('x', { amount: 12.5 }), 400, 'amount'],
      ['amount above 2^63-1', transfer('x', { amount: '9223372036854775808' }), 400, 'amount'],
      ['from equals to', transfer('x', { to: 'acc-1' }), 400, 'to'],
      ['unknown currency', transfer('x', { currency: 'XYZ' }), 400, 'currency'],
      ['bad date', transfer('x', { occurredAt: '31/01/2026' }), 400, 'occurredAt'],
      ['id too long', transfer('x'.repeat(129)), 400, 'id'],
      ['malformed JSON', '{"id": "x",', 400, 'body'],
      ['empty body', '', 400, 'body'],
      ['array body', [transfer('x')], 400, 'body'],
    ])('%s', async (_label, body, status, field) => {
      const response = await post('/transfers', body);
      expect(response.status).toBe(status);
      const error = await readError(response);
      expect(error.message).toContain(field);
      expect(JSON.stringify(error)).not.toMatch(/stack|at \w+ \(/);
      expect(await rowCount()).toBe(0);
    });

    it('rejects a whole batch when one transfer is invalid, naming its index and field', async () => {
      const response = await post('/transfers/batch', { transfers: [transfer('ok-1'), transfer('bad', { currency: 'eur' }), transfer('ok-2')] });
      expect(response.status).toBe(400);
      expect((await readError(response)).message).toMatch(/^transfers\[1\]\.currency: /);
      expect(await rowCount()).toBe(0);
    });

    it('rejects a whole batch when one id conflicts with a stored transfer', async () => {
      await post('/transfers', transfer('kept'));
      const response = await post('/transfers/batch', { transfers: [transfer('new-1'), transfer('kept', { amount: '2' })] });
      expect(response.status).toBe(409);
      expect(await rowCount()).toBe(1);
    });

    it('refuses more than 10,000 transfers in one batch with 413', async () => {
      const transfers = Array.from({ length: 10_001 }, (_, i) => transfer(`o-${i}`));
      const response = await post('/transfers/batch', { transfers });
      expect(response.status).toBe(413);
      expect((await readError(response)).message).toContain('transfers');
      expect(await rowCount()).toBe(0);
    });

    it('refuses a body over the size limit with 413', async () => {
      const response = await post('/transfers/batch', `{"transfers":[${'"x",'.repeat(5_000_000)}"x"]}`);
      expect(response.status).toBe(413);
      expect((await readError(response)).message).toContain('body');
      expect(await rowCount()).toBe(0);
    });

    it('refuses other content types with 415', async () => {
      const response = await fetch(`${running.baseUrl}/transfers`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
      expect(response.status).toBe(415);
    });

    it('validates path and query parameters', async () => {
      expect((await fetch(`${running.baseUrl}/accounts/acc-1/transfers?limit=0`)).status).toBe(400);
      expect((await fetch(`${running.baseUrl}/accounts/acc-1/transfers?cursor=abc`)).status).toBe(400);
      expect((await fetch(`${running.baseUrl}/transfers/${'y'.repeat(200)}`)).status).toBe(400);
    });
  });
});

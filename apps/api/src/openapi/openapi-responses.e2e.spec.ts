import type { OpenAPIObject } from '@nestjs/swagger';
import { Client } from 'pg';
import { uuidv7 } from '@modulith/core';
import { ADMIN, ADMIN_TOKEN } from '../testing/app-processes';
import { startApp, type RunningApp } from '../testing/app.fixture';
import { waitForPipelineDrain } from '../testing/pipeline-probes';
import { exchange, stalledRequest } from '../testing/raw-http';
import { ResponseConformance, type Exchange } from './response-conformance';

// Bounds: the pipeline drain, and the request timeouts the app gets here (a 408 comes after them).
const DRAIN_TIMEOUT_MS = Number(process.env['E2E_DRAIN_TIMEOUT_MS'] ?? 120_000);
const START_TIMEOUT_MS = Number(process.env['E2E_START_TIMEOUT_MS'] ?? 60_000);
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 4_000;
const BODY_LIMIT_BYTES = 256 * 1024;

const exchanges: Exchange[] = [];
let running: RunningApp;
let conformance: ResponseConformance;
let client = 0;

interface Sent {
  method?: string;
  headers?: Record<string, string>;
  /** JSON-encoded unless a string. */
  body?: unknown;
  /** Rate-limited writes come from a fresh client address unless one is named. */
  from?: string;
}

const exchangeOf = (method: string, url: string, headers: Record<string, string>, body?: string) =>
  exchange(running.baseUrl, method, url, headers, body, REQUEST_TIMEOUT_MS * 3);

/** A JSON body, read loosely: the document check has already vouched for its shape. */
interface Body {
  items: { id: string; transferId: string }[];
  lines: { balanceAfter: string }[];
  buckets: { hour: string; currency: string }[];
  nextCursor: string | null;
  nextBefore: string | null;
  field?: string;
  [key: string]: unknown;
}

/** Sends a real request, keeps the exchange, and fails at once if the response departs from the document. */
async function send(url: string, { method = 'GET', headers = {}, body, from }: Sent = {}): Promise<Exchange & { json: () => Body }> {
  const writes = method !== 'GET' && url.startsWith('/transfers');
  const forwarded = from ?? (writes ? `2001:db8::${(++client).toString(16)}` : undefined);
  const exchange = await exchangeOf(method, url, {
    ...(body === undefined || typeof body === 'string' ? {} : { 'content-type': 'application/json' }),
    ...(forwarded ? { 'x-forwarded-for': forwarded } : {}),
    ...headers,
  }, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  exchanges.push(exchange);
  expect(conformance.problems(exchange)).toEqual([]);
  return { ...exchange, json: () => JSON.parse(exchange.body) as Body };
}

/** A stalled request, kept with the others. */
async function stalled(url: string): Promise<Exchange> {
  const answer = await stalledRequest(running.baseUrl, url, REQUEST_TIMEOUT_MS * 3);
  exchanges.push(answer);
  return answer;
}

const transfer = (id: string, hour: number, overrides: Record<string, unknown> = {}) => ({
  id,
  from: 'pager',
  to: `payee-${hour % 3}`,
  amount: String(100 + hour),
  currency: hour % 2 ? 'USD' : 'EUR',
  occurredAt: new Date(Date.UTC(2026, 0, 1, hour)).toISOString(),
  ...overrides,
});

/** Walks a paged list from its first page: every item once, until the cursor runs out. */
async function walk<T>(
  first: string,
  items: (page: Body) => T[],
  next: (page: Body) => string | null,
  { cursorName = 'cursor', headers = {} }: { cursorName?: string; headers?: Record<string, string> } = {},
): Promise<{ all: T[]; pages: number }> {
  const all: T[] = [];
  let url: string | null = first;
  let pages = 0;
  while (url) {
    const response = await send(url, { headers });
    expect(response.status).toBe(200);
    const page = response.json();
    all.push(...items(page));
    pages += 1;
    const cursor = next(page);
    url = cursor === null ? null : `${first}&${cursorName}=${encodeURIComponent(cursor)}`;
    expect(pages).toBeLessThan(100);
  }
  return { all, pages };
}

describe('every response matches the OpenAPI document (real requests)', () => {
  beforeAll(async () => {
    running = await startApp({
      ADMIN_TOKEN,
      RATE_LIMIT_WRITES_PER_MINUTE: '1',
      HTTP_TRUST_PROXY: 'true',
      HTTP_BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
    const document = JSON.parse((await exchangeOf('GET', '/docs-json', {})).body) as OpenAPIObject;
    conformance = await new ResponseConformance(document).init();
  }, START_TIMEOUT_MS);

  afterAll(() => running?.close(), START_TIMEOUT_MS);

  it('the check does fail: a planted wrong schema, an undocumented status and media type are reported', async () => {
    const document = JSON.parse((await exchangeOf('GET', '/docs-json', {})).body) as OpenAPIObject & { components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
    document.components.schemas['LivenessDto'].properties.status = { type: 'integer' };
    const planted = await new ResponseConformance(document).init();
    const exchange = await exchangeOf('GET', '/health', {});
    expect(planted.problems(exchange)).toEqual([expect.stringMatching(/^GET \/health → 200: body\/status must be integer/)]);
    expect(planted.problems({ ...exchange, status: 418 })).toEqual([expect.stringMatching(/status not documented/)]);
    expect(planted.problems({ ...exchange, headers: { 'content-type': 'text/xml' } })).toEqual([expect.stringMatching(/content-type "text\/xml" not documented/)]);
    expect(planted.problems({ ...exchange, body: JSON.stringify({ status: 'ok', modules: [], extra: 1 }) })).not.toEqual([]);
    expect(planted.problems({ ...exchange, url: '/nowhere' })).toEqual([expect.stringMatching(/no documented operation/)]);
  }, START_TIMEOUT_MS);

  it('operations pages: health, readiness, metrics, ops state, the console', async () => {
    for (const url of ['/health', '/ready', '/metrics', '/ops/state', '/ops/state?peers=false', '/', '/console.css', '/console.js']) {
      expect((await send(url)).status).toBe(200);
    }
  }, START_TIMEOUT_MS);

  it('a request that does not arrive in time: 408 on any operation', async () => {
    const answers = await Promise.all(['/health', '/ready', '/metrics', '/ops/state', '/', '/console.css', '/console.js', '/analytics/hourly'].map(stalled));
    for (const exchange of answers) {
      expect(exchange.status).toBe(408);
      expect(conformance.problems(exchange)).toEqual([]);
    }
  }, REQUEST_TIMEOUT_MS * 4);

  it('POST /transfers: 201, 200, 400, 409, 413, 415, 429', async () => {
    const one = transfer('single-1', 0, { from: 'solo', to: 'other' });
    expect((await send('/transfers', { method: 'POST', body: one })).status).toBe(201);
    expect((await send('/transfers', { method: 'POST', body: one })).status).toBe(200);
    expect((await send('/transfers', { method: 'POST', body: { ...one, amount: '9223372036854775808' } })).json().field).toBe('amount');
    expect((await send('/transfers', { method: 'POST', body: { ...one, note: 'x' } })).json().field).toBe('note');
    expect((await send('/transfers', { method: 'POST', body: '{"id":' , headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await send('/transfers', { method: 'POST', body: { ...one, amount: '2' } })).status).toBe(409);
    expect((await send('/transfers', { method: 'POST', body: { ...one, to: 'x'.repeat(BODY_LIMIT_BYTES) } })).status).toBe(413);
    expect((await send('/transfers', { method: 'POST', body: 'id=1', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    const limited = await send('/transfers', { method: 'POST', body: one, from: '2001:db8::ffff' });
    expect(limited.status).toBe(200);
    const refused = await send('/transfers', { method: 'POST', body: one, from: '2001:db8::ffff' });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
  }, START_TIMEOUT_MS);

  it('POST /transfers/batch: 201, 400, 409, 413, 415, 429; then every list pages to the end, never cut', async () => {
    const hours = 25;
    const batch = Array.from({ length: hours }, (_, hour) => transfer(`page-${hour}`, hour));
    expect((await send('/transfers/batch', { method: 'POST', body: { transfers: batch } })).json()).toEqual({ accepted: hours, replayed: 0 });
    expect((await send('/transfers/batch', { method: 'POST', body: { transfers: [] } })).status).toBe(400);
    expect((await send('/transfers/batch', { method: 'POST', body: { transfers: [{ ...batch[0], currency: 'XYZ' }] } })).json().field).toBe('transfers[0].currency');
    expect((await send('/transfers/batch', { method: 'POST', body: { transfers: [{ ...batch[0], amount: '1' }] } })).status).toBe(409);
    expect((await send('/transfers/batch', { method: 'POST', body: { transfers: Array.from({ length: 10_001 }, () => 0) } })).status).toBe(413);
    expect((await send('/transfers/batch', { method: 'POST', body: '<transfers/>', headers: { 'content-type': 'application/xml' } })).status).toBe(415);
    await send('/transfers/batch', { method: 'POST', body: { transfers: [batch[0]] }, from: '2001:db8::fffe' });
    expect((await send('/transfers/batch', { method: 'POST', body: { transfers: [batch[0]] }, from: '2001:db8::fffe' })).status).toBe(429);
    await waitForPipelineDrain(running.baseUrl, DRAIN_TIMEOUT_MS);

    const ids = batch.map((t) => t.id).sort();
    const transfers = await walk('/accounts/pager/transfers?limit=7', (page) => page.items.map((t) => t.id), (page) => page.nextCursor);
    expect([...transfers.all].sort()).toEqual(ids);
    expect(transfers.pages).toBe(4);

    const entries = await walk('/accounts/pager/entries?limit=7', (page) => page.items.map((e) => e.transferId), (page) => page.nextCursor);
    expect([...entries.all].sort()).toEqual(ids);

    const eur = batch.filter((t) => t.currency === 'EUR');
    const statement = await walk('/accounts/pager/statements/EUR?limit=5', (page) => page.lines, (page) => page.nextCursor);
    expect(statement.all).toHaveLength(eur.length);
    expect(statement.all.at(-1)?.balanceAfter).toBe(String(-eur.reduce((sum, t) => sum + Number(t.amount), 0)));

    const hourly = await walk('/analytics/hourly?from=2026-01-01&to=2026-01-03&limit=7', (page) => page.buckets, (page) => page.nextCursor);
    expect(hourly.all.map((b) => `${b.hour} ${b.currency}`)).toEqual(batch.map((t) => `${t.occurredAt} ${t.currency}`));
    expect(hourly.pages).toBe(4);
    // One page holds everything: no cursor to follow.
    expect((await send('/analytics/hourly?from=2026-01-01&to=2026-01-03&limit=10000')).json()).toMatchObject({ nextCursor: null });
  }, DRAIN_TIMEOUT_MS + 30_000);

  it('reads refuse what they cannot answer in full or at all: 400 naming the field, 404', async () => {
    const field = async (url: string) => (await send(url)).json().field;
    expect(await field('/analytics/hourly?limit=10001')).toBe('limit');
    expect(await field('/analytics/hourly?cursor=not-a-cursor')).toBe('cursor');
    expect(await field('/analytics/hourly?currency=XYZ')).toBe('currency');
    expect(await field('/analytics/hourly?from=2026-01-02&to=2026-01-01')).toBe('to');
    expect(await field('/accounts/pager/transfers?limit=501')).toBe('limit');
    expect(await field('/accounts/pager/transfers?cursor=x')).toBe('cursor');
    expect(await field('/accounts/pager/entries?limit=0')).toBe('limit');
    expect(await field('/accounts/pager/statements/EUR?cursor=-1')).toBe('cursor');
    expect(await field('/accounts/pager/statements/euro')).toBe('currency');
    // Cursors are bigint sequence numbers: one past the range is a 400, not the database's 500.
    expect(await field('/accounts/pager/transfers?limit=1&cursor=9223372036854775808')).toBe('cursor');
    expect(await field('/accounts/pager/entries?cursor=9999999999999999999')).toBe('cursor');
    expect(await field('/accounts/pager/statements/EUR?cursor=9223372036854775808')).toBe('cursor');
    for (const list of ['transfers', 'entries', 'statements/EUR']) {
      expect((await send(`/accounts/pager/${list}?cursor=9223372036854775807`)).status).toBe(200);
    }
    expect(await field(`/accounts/${'a'.repeat(129)}/balances`)).toBe('account');
    expect(await field(`/transfers/${'a'.repeat(129)}`)).toBe('id');
    expect(await field('/accounts/bad%20id/balances')).toBe('account');
    expect(await field('/transfers/bad%20id')).toBe('id');
    expect((await send('/accounts/pager/balances')).status).toBe(200);
    expect((await send('/transfers/page-1')).status).toBe(200);
    expect((await send('/transfers/nowhere')).status).toBe(404);
  }, START_TIMEOUT_MS);

  it('a path parameter past the router limit (256): 414 naming `path`, without echoing the path', async () => {
    const long = 'a'.repeat(257);
    const urls = [
      ...['balances', 'transfers', 'entries', 'statements/EUR'].map((list) => `/accounts/${long}/${list}`),
      `/accounts/pager/statements/${long}`,
      `/transfers/${long}`,
    ];
    for (const url of urls) {
      const answer = await send(url);
      expect(answer.status).toBe(414);
      expect(answer.json()).toMatchObject({ statusCode: 414, error: 'URI Too Long', field: 'path' });
      expect(answer.body).not.toContain(long);
    }
    const replay = await send(`/admin/dead-letters/${long}/replay`, { method: 'POST', headers: ADMIN });
    expect(replay.status).toBe(414);
    expect(replay.body).not.toContain(long);
  }, START_TIMEOUT_MS);

  it('admin: 200/202 with the token, 401 without, 400 naming the field; dead letters page to the end', async () => {
    const database = new Client({ connectionString: running.database.url });
    await database.connect();
    try {
      for (let i = 0; i < 5; i++) {
        const envelope = { id: uuidv7(), type: 'openapi.check', version: 1, occurredAt: new Date().toISOString(), source: 'openapi', correlationId: 'c', causationId: null, payload: { i } };
        await database.query('INSERT INTO messaging.dead_letters (id, subscriber, event_id, event_type, envelope, error, stack, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          uuidv7(),
          'openapi.check',
          envelope.id,
          envelope.type,
          envelope,
          'planted',
          i % 2 ? null : 'Error: planted',
          3,
        ]);
      }
    } finally {
      await database.end();
    }
    const letters = await walk('/admin/dead-letters?subscriber=openapi.check&limit=2', (page) => page.items, (page) => page.nextBefore, { cursorName: 'before', headers: ADMIN });
    expect(letters.all).toHaveLength(5);
    expect((await send('/admin/dead-letters', { headers: ADMIN })).status).toBe(200);

    const admin = { headers: ADMIN };
    for (const url of ['/admin/pipeline', '/admin/invariants', '/admin/outbox/retained', '/admin/dead-letters']) {
      expect((await send(url, admin)).status).toBe(200);
      expect((await send(url)).status).toBe(401);
    }
    expect((await send('/admin/dead-letters?limit=x', admin)).json().field).toBe('limit');
    expect((await send('/admin/dead-letters?before=x', admin)).json().field).toBe('before');
    expect((await send('/admin/outbox/redrive?since=2026-01-01T00:00:00Z', { ...admin, method: 'POST' })).status).toBe(202);
    expect((await send('/admin/outbox/redrive?since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z', { ...admin, method: 'POST' })).status).toBe(202);
    expect((await send('/admin/outbox/redrive', { ...admin, method: 'POST' })).json().field).toBe('since');
    expect((await send('/admin/outbox/redrive?since=2026-01-01', { method: 'POST' })).status).toBe(401);
    expect((await send('/admin/dead-letters/replay?subscriber=nobody', { ...admin, method: 'POST' })).status).toBe(202);
    expect((await send('/admin/dead-letters/replay', { ...admin, method: 'POST' })).json().field).toBe('subscriber');
    expect((await send('/admin/dead-letters/replay?subscriber=x', { method: 'POST' })).status).toBe(401);
    expect((await send(`/admin/dead-letters/${letters.all[0].id}/replay`, { ...admin, method: 'POST' })).status).toBe(202);
    expect((await send(`/admin/dead-letters/${uuidv7()}/replay`, { ...admin, method: 'POST' })).status).toBe(404);
    expect((await send('/admin/dead-letters/x/replay', { ...admin, method: 'POST' })).json().field).toBe('id');
    expect((await send('/admin/dead-letters/x/replay', { method: 'POST' })).status).toBe(401);
    expect((await send('/admin/outbox/redrive?since=2026-01-01', { ...admin, method: 'POST', body: 'x', headers: { ...ADMIN, 'content-type': 'text/plain' } })).status).toBe(415);
  }, START_TIMEOUT_MS);

  it('a table locked by another transaction past the lock timeout (DB_LOCK_TIMEOUT_MS, 5 s): 503 with retry-after', async () => {
    const holder = new Client({ connectionString: running.database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE ingestion.transfers IN ACCESS EXCLUSIVE MODE');
      const answers = await Promise.all([
        send('/transfers', { method: 'POST', body: transfer('locked-1', 30) }),
        send('/transfers/batch', { method: 'POST', body: { transfers: [transfer('locked-2', 31)] } }),
        send('/transfers/page-1'),
        send('/accounts/pager/transfers'),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.headers['retry-after']).toMatch(/^\d+$/);
      }
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  }, START_TIMEOUT_MS);

  it('covered every documented operation with a success and an error', () => {
    const seen = new Map<string, Set<number>>();
    for (const exchange of exchanges) {
      const id = conformance.operationOf(exchange.method, exchange.url);
      if (id) seen.set(id, (seen.get(id) ?? new Set()).add(exchange.status));
    }
    const missing = conformance.operationIds().filter((id) => {
      const statuses = [...(seen.get(id) ?? [])];
      return !statuses.some((status) => status < 300) || !statuses.some((status) => status >= 400);
    });
    expect(missing).toEqual([]);
    const all = new Set(exchanges.map((exchange) => exchange.status));
    for (const status of [200, 201, 202, 400, 401, 404, 408, 409, 413, 414, 415, 429, 503]) expect(all).toContain(status);
  });
});

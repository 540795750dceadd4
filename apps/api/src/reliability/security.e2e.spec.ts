import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { createTestDatabase, freePort, type TestDatabase } from '@modulith/testing';
import { startApp, type RunningApp } from '../testing/app.fixture';
import { MAIN, startApi } from '../testing/app-processes';
import { expectNamedClientError } from './hostile-input.expectations';

jest.setTimeout(120_000);

const ADMIN_ROUTES: [string, string][] = [
  ['GET', '/admin/pipeline'],
  ['GET', '/admin/invariants'],
  ['GET', '/admin/dead-letters'],
  ['POST', '/admin/dead-letters/replay?subscriber=ledger.apply-transfers'],
  ['POST', '/admin/dead-letters/00000000-0000-7000-8000-000000000000/replay'],
];

let serial = 0;
const transfer = () => ({ id: `sec-${++serial}`, from: 'acc-1', to: 'acc-2', amount: '5', currency: 'EUR', occurredAt: '2026-01-31T12:00:00Z' });

async function call(base: string, method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('security', () => {
  describe('admin operations', () => {
    let off: RunningApp;
    let on: RunningApp;
    const token = randomBytes(24).toString('base64url');

    beforeAll(async () => {
      [off, on] = await Promise.all([startApp({}), startApp({ ADMIN_TOKEN: token })]);
    });
    afterAll(() => Promise.all([off?.close(), on?.close()]));

    it('are off (404 naming ADMIN_TOKEN) when no token is configured, whatever is sent', async () => {
      for (const [method, path] of ADMIN_ROUTES) {
        for (const headers of [{}, { authorization: 'Bearer ' }, { authorization: `Bearer ${token}` }, { authorization: 'Bearer undefined' }] as Record<string, string>[]) {
          const { status, text } = await call(off.baseUrl, method, path, { headers });
          expect(status).toBe(404);
          expect(JSON.parse(text).message).toContain('ADMIN_TOKEN');
        }
      }
    });

    it('need the bearer token: 401 without it or with a wrong one, and the operation runs with it', async () => {
      for (const [method, path] of ADMIN_ROUTES) {
        for (const headers of [{}, { authorization: `Bearer ${token.slice(1)}` }, { authorization: `Basic ${token}` }, { 'x-admin-token': token }] as Record<string, string>[]) {
          const { status, text } = await call(on.baseUrl, method, path, { headers });
          expectNamedClientError(status, text, 'authorization');
          expect(status).toBe(401);
        }
        const allowed = await call(on.baseUrl, method, path, { headers: { authorization: `Bearer ${token}` } });
        expect([200, 202, 404]).toContain(allowed.status); // 404: that dead letter does not exist
        expect(allowed.headers.get('cache-control')).toBe('no-store');
      }
    });

    it('cannot be reached by spelling the path differently', async () => {
      for (const path of ['/%61dmin/pipeline', '/admin%2Fpipeline', '/admin/pipeline/', '/admin/./pipeline', '/ADMIN/pipeline', '//admin/pipeline', '/admin/pipeline?x=/health']) {
        const { status } = await call(on.baseUrl, 'GET', path);
        expect([401, 404]).toContain(status);
      }
    });
  });

  describe('limits and headers', () => {
    let app: RunningApp;
    let sql: Client;
    const count = async () => Number((await sql.query('SELECT count(*) FROM ingestion.transfers')).rows[0].count);

    beforeAll(async () => {
      app = await startApp({ HTTP_BODY_LIMIT_BYTES: String(1024 * 1024), HTTP_HSTS_MAX_AGE_SECONDS: '31536000' });
      sql = new Client({ connectionString: app.database.url });
      await sql.connect();
    });
    afterAll(async () => {
      await sql?.end();
      await app?.close();
    });

    it('refuses a body over HTTP_BODY_LIMIT_BYTES with 413 naming the body, and takes one just under it', async () => {
      const base = JSON.stringify({ transfers: [transfer()] });
      const padded = (size: number) => `${base.slice(0, -1)}${' '.repeat(size - base.length)}}`;
      const over = await call(app.baseUrl, 'POST', '/transfers/batch', { body: padded(1024 * 1024 + 1) });
      expect(over.status).toBe(413);
      expectNamedClientError(over.status, over.text, 'body');
      const under = await call(app.baseUrl, 'POST', '/transfers/batch', { body: padded(1024 * 1024) });
      expect(under.status).toBe(201);
      expect(await count()).toBe(1);
    });

    it('refuses more than 10,000 transfers per batch with 413 naming transfers, writing nothing', async () => {
      const before = await count();
      const small = Array.from({ length: 10_001 }, (_, i) => ({ id: `b${i}`, from: 'a', to: 'b', amount: 1, currency: 'EUR', occurredAt: '2026-01-01T00:00Z' }));
      // Over the 1 MiB body limit of this app? Then the body limit answers first; use the default app below.
      const body = JSON.stringify({ transfers: small });
      expect(body.length).toBeLessThan(1024 * 1024);
      const { status, text } = await call(app.baseUrl, 'POST', '/transfers/batch', { body });
      expect(status).toBe(413);
      expectNamedClientError(status, text, 'transfers');
      expect(await count()).toBe(before);
    });

    it('sends the security headers on every answer, HSTS when configured', async () => {
      for (const [method, path] of [['GET', '/health'], ['GET', '/nowhere'], ['POST', '/transfers'], ['GET', '/admin/pipeline'], ['GET', '/transfers/%zz']]) {
        const { headers } = await call(app.baseUrl, method, path, method === 'POST' ? { body: '{' } : {});
        expect(Object.fromEntries(headers)).toMatchObject({
          'content-security-policy': expect.stringContaining("script-src 'self'"),
          'strict-transport-security': 'max-age=31536000; includeSubDomains',
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-resource-policy': 'same-origin',
        });
        expect(headers.get('x-powered-by')).toBeNull();
      }
    });
  });

  describe('rate limiting of public writes', () => {
    let limited: RunningApp;
    let unlimited: RunningApp;

    beforeAll(async () => {
      [limited, unlimited] = await Promise.all([
        startApp({ RATE_LIMIT_WRITES_PER_MINUTE: '6', RATE_LIMIT_WRITES_BURST: '3', HTTP_TRUST_PROXY: '127.0.0.1' }),
        startApp({ RATE_LIMIT_WRITES_PER_MINUTE: '0' }),
      ]);
    });
    afterAll(() => Promise.all([limited?.close(), unlimited?.close()]));

    it('allows the burst, then answers 429 with retry-after and writes nothing; reads are not limited', async () => {
      const client = { 'x-forwarded-for': '203.0.113.7' };
      const statuses = [];
      const first = transfer();
      for (let i = 0; i < 3; i++) {
        const body = i === 0 ? first : i === 2 ? { transfers: [transfer()] } : transfer();
        statuses.push((await call(limited.baseUrl, 'POST', i === 2 ? '/transfers/batch' : '/transfers', { body, headers: client })).status);
      }
      expect(statuses).toEqual([201, 201, 201]);
      const refused = await call(limited.baseUrl, 'POST', '/transfers', { body: transfer(), headers: client });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(10);
      expect(JSON.parse(refused.text)).toMatchObject({ statusCode: 429, message: expect.stringContaining('rate limit') });
      expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
      const id = JSON.parse((await call(limited.baseUrl, 'POST', '/transfers', { body: transfer(), headers: client })).text).id;
      expect(id).toBeUndefined();
      for (let i = 0; i < 10; i++) expect((await call(limited.baseUrl, 'GET', `/transfers/${first.id}`, { headers: client })).status).toBe(200);
      // Another client has its own budget.
      expect((await call(limited.baseUrl, 'POST', '/transfers', { body: transfer(), headers: { 'x-forwarded-for': '203.0.113.8' } })).status).toBe(201);
      const sql = new Client({ connectionString: limited.database.url });
      await sql.connect();
      const { rows } = await sql.query('SELECT count(*)::int AS count FROM ingestion.transfers');
      await sql.end();
      expect(rows[0].count).toBe(4); // 2 singles and a batch of 1 from the first client, 1 from the other
    });

    it('is off with RATE_LIMIT_WRITES_PER_MINUTE=0', async () => {
      for (let i = 0; i < 30; i++) expect((await call(unlimited.baseUrl, 'POST', '/transfers', { body: transfer() })).status).toBe(201);
    });
  });

  describe('secrets', () => {
    let database: TestDatabase;
    beforeAll(async () => (database = await createTestDatabase('secrets')));
    afterAll(() => database?.drop());

    it('come only from the environment and never appear in any output: serve, errors, migrate, verify, a failed start', async () => {
      const token = `tok-${randomBytes(16).toString('hex')}`;
      const password = `pw-${randomBytes(16).toString('hex')}`;
      // The local server trusts every connection, so a password in the URL is accepted and ignored.
      const url = new URL(database.url);
      url.username = 'postgres';
      url.password = password;
      const env = { DATABASE_URL: url.toString(), ADMIN_TOKEN: token, LOG_LEVEL: 'verbose' };
      const outputs: string[] = [];

      const app = await startApi('app', env);
      try {
        const auth = { authorization: `Bearer ${token}` };
        await call(app.baseUrl, 'POST', '/transfers', { body: transfer() });
        await call(app.baseUrl, 'POST', '/transfers', { body: '{"broken' });
        await call(app.baseUrl, 'GET', '/admin/pipeline', { headers: auth });
        await call(app.baseUrl, 'GET', '/admin/invariants', { headers: auth });
        await call(app.baseUrl, 'GET', '/admin/pipeline', { headers: { authorization: `Bearer ${token}x` } });
      } finally {
        await app.stop();
      }
      outputs.push(app.output());
      for (const command of ['migrate', 'verify']) {
        const run = spawnSync(process.execPath, [MAIN, command], { env: { ...process.env, ...env, LOG_FORMAT: 'json', VERIFY_TIMEOUT_MS: '20000' }, encoding: 'utf8', timeout: 60_000 });
        outputs.push(run.stdout + run.stderr);
      }
      // A server that is not there: the connection error must not quote the URL.
      const closedPort = await freePort();
      const failed = spawnSync(process.execPath, [MAIN], {
        env: { ...process.env, ...env, DATABASE_URL: `postgres://postgres:${password}@127.0.0.1:${closedPort}/nowhere`, PORT: String(await freePort()), LOG_FORMAT: 'json' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(failed.status).not.toBe(0);
      outputs.push(failed.stdout + failed.stderr);

      const all = outputs.join('\n');
      expect(all.length).toBeGreaterThan(1000); // it did log, at verbose level
      expect(all).not.toContain(password);
      expect(all).not.toContain(token);
    });

    // Found by this suite: the request log masked the token in messages but printed `req.url` as is.
    it('a token a client puts in a URL is masked in the request log too', async () => {
      const token = `tok-${randomBytes(16).toString('hex')}`;
      const app = await startApi('app', { LOG_LEVEL: 'log', DATABASE_URL: database.url, ADMIN_TOKEN: token });
      try {
        await call(app.baseUrl, 'GET', `/transfers/${token}`);
      } finally {
        await app.stop();
      }
      expect(app.output()).toContain('request completed');
      expect(app.output()).not.toContain(token);
    });
  });
});

import fc from 'fast-check';
import { Client } from 'pg';
import { fieldPath } from '@modulith/http';
import { startApp, type RunningApp } from '../testing/app.fixture';
import { badId, INJECTIONS, notAString, spoiler, validTransfer } from './hostile-input.arbitraries';
import { expectNamedClientError, expectNoInternals, expectNoServerError } from './hostile-input.expectations';

const TOKEN = 'hostile-admin-token';
const RUNS = Number(process.env['HOSTILE_RUNS'] ?? 60);

jest.setTimeout(120_000);

/**
 * Property-based hostile input against every HTTP endpoint of the running app: whatever is
 * sent, the answer is a 4xx naming the field (or, for reads, a 2xx/404), never a 5xx, with no
 * internal detail, and nothing is written.
 */
describe('hostile input over HTTP (property-based)', () => {
  let running: RunningApp;
  let sql: Client;

  const request = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${running.baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: response.status, text: await response.text(), headers: response.headers };
  };
  const post = (path: string, body: string, headers?: Record<string, string>) => request('POST', path, body, headers);
  const get = (path: string, headers?: Record<string, string>) => request('GET', path, undefined, headers);

  const expectNothingWritten = async () => {
    const { rows } = await sql.query(
      'SELECT (SELECT count(*) FROM ingestion.transfers)::int AS transfers, (SELECT count(*) FROM messaging.outbox)::int AS outbox, (SELECT count(*) FROM ledger.entries)::int AS entries',
    );
    expect(rows[0]).toEqual({ transfers: 0, outbox: 0, entries: 0 });
  };

  beforeAll(async () => {
    running = await startApp({ ADMIN_TOKEN: TOKEN, HTTP_BODY_LIMIT_BYTES: String(256 * 1024) });
    sql = new Client({ connectionString: running.database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await running?.close();
  });

  afterEach(() => expectNothingWritten());

  describe('POST /transfers', () => {
    it('one spoiled field (wrong type, missing, extra, out of range, float, same accounts, bad currency, long or non-ASCII id, injection): 400 naming it', async () => {
      await fc.assert(
        fc.asyncProperty(spoiler, async ({ field, apply }) => {
          const { status, text } = await post('/transfers', JSON.stringify(apply(validTransfer())));
          expect(status).toBe(400);
          // A spoiled value may itself be an object: then a key inside it may be the one named (`seq.__proto__`).
          expectNamedClientError(status, text, fieldPath('', field), true);
        }),
        { numRuns: RUNS * 3 },
      );
    });

    it('any JSON value that is not a transfer: a 4xx naming a field or the body', async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (value) => {
          const { status, text } = await post('/transfers', JSON.stringify(value));
          expectNamedClientError(status, text);
        }),
        { numRuns: RUNS },
      );
    });

    it('malformed and truncated JSON: 400 naming the body', async () => {
      const valid = JSON.stringify(validTransfer());
      const truncated = fc.integer({ min: 0, max: valid.length - 1 }).map((cut) => valid.slice(0, cut));
      const garbage = fc.string({ unit: 'grapheme', maxLength: 60 }).filter((text) => {
        try {
          JSON.parse(text);
          return false;
        } catch {
          return true;
        }
      });
      await fc.assert(
        fc.asyncProperty(fc.oneof(truncated, garbage, fc.constantFrom("{'id':'x'}", '{"id":"x",}', '{"a":1}{"b":2}', 'NaN', '\u0000', '{"__proto__":{"x":1}', '[')), async (text) => {
          const { status, body } = await post('/transfers', text).then((r) => ({ status: r.status, body: r.text }));
          expect(status).toBe(400);
          expectNamedClientError(status, body, 'body');
        }),
        { numRuns: RUNS },
      );
    });

    // Found by issue 12: JSON.parse keeps the last of repeated keys, so {"amount":"10",...,"amount":"20"}
    // was stored as 20 while a proxy reading the first saw 10.
    it('a key sent twice, even with a valid value or spelled with escapes: 400 naming it, nothing stored', async () => {
      const field = fc.constantFrom('id', 'from', 'to', 'amount', 'currency', 'occurredAt');
      const spelling = fc.constantFrom('plain', 'escaped');
      await fc.assert(
        fc.asyncProperty(field, spelling, fc.boolean(), async (key, how, sameValue) => {
          const transfer = validTransfer();
          const repeated = how === 'plain' ? JSON.stringify(key) : `"\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${key.slice(1)}"`;
          const other: Record<string, unknown> = { id: 'other-id', from: 'acc-3', to: 'acc-4', amount: '20', currency: 'USD', occurredAt: '2026-02-01T00:00:00Z' };
          const value = sameValue ? transfer[key] : other[key];
          const { status, text } = await post('/transfers', JSON.stringify(transfer).replace(/}$/, () => `,${repeated}:${JSON.stringify(value)}}`));
          expect(status).toBe(400);
          expectNamedClientError(status, text, key);
        }),
        { numRuns: RUNS / 2 },
      );
    });

    it('a body that is not JSON: 415 naming the content type', async () => {
      const body = JSON.stringify(validTransfer());
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonp']) {
        const { status, text } = await request('POST', '/transfers', body, { 'content-type': type });
        expect(status).toBe(415);
        expectNamedClientError(status, text, 'content-type');
      }
    });

    it('a body over the size limit: 413 naming the body', async () => {
      const { status, text } = await post('/transfers', JSON.stringify({ ...validTransfer(), id: 'x'.repeat(300 * 1024) }));
      expect(status).toBe(413);
      expectNamedClientError(status, text, 'body');
    });
  });

  describe('POST /transfers/batch', () => {
    it('one spoiled transfer anywhere in a batch: 400 naming its index and field, and the whole batch is refused', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.nat(), spoiler, async (size, at, { field, apply }) => {
          const index = at % size;
          const transfers = Array.from({ length: size }, (_, i) => (i === index ? apply(validTransfer()) : validTransfer()));
          const { status, text } = await post('/transfers/batch', JSON.stringify({ transfers }));
          expect(status).toBe(400);
          expectNamedClientError(status, text, fieldPath(`transfers[${index}]`, field));
        }),
        { numRuns: RUNS * 2 },
      );
    });

    it('a wrong envelope (not an object, no or wrong "transfers", extra keys, empty): a 4xx naming it', async () => {
      const envelope = fc.oneof(
        fc.jsonValue({ maxDepth: 2 }).filter((value) => typeof value !== 'object' || value === null || Array.isArray(value)).map((value) => ({ value, field: 'body' })),
        fc.oneof(notAString, fc.string()).filter((transfers) => !Array.isArray(transfers)).map((transfers) => ({ value: { transfers }, field: 'transfers' })),
        fc.oneof(notAString, fc.string()).map((item) => ({ value: { transfers: [item] }, field: 'transfers[0]' })),
        fc.constant({ value: { transfers: [] }, field: 'transfers' }),
        fc.constant({ value: {}, field: 'transfers' }),
        fc
          .string({ minLength: 1, maxLength: 10 })
          .filter((key) => key !== 'transfers')
          .map((key) => ({ value: { transfers: [validTransfer()], [key]: true }, field: fieldPath('', key) })),
      );
      await fc.assert(
        fc.asyncProperty(envelope, async ({ value, field }) => {
          const { status, text } = await post('/transfers/batch', JSON.stringify(value));
          expectNamedClientError(status, text, field, true);
        }),
        { numRuns: RUNS },
      );
    });

    it('a key sent twice in any transfer of a batch, or in the envelope: 400 naming its path, and the whole batch is refused', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.nat(), fc.constantFrom('id', 'amount', 'currency'), async (size, at, key) => {
          const index = at % size;
          const items = Array.from({ length: size }, (_, i) => {
            const text = JSON.stringify(validTransfer());
            return i === index ? text.replace(/}$/, () => `,${JSON.stringify(key)}:"20"}`) : text;
          });
          const { status, text } = await post('/transfers/batch', `{"transfers":[${items.join(',')}]}`);
          expect(status).toBe(400);
          expectNamedClientError(status, text, `transfers[${index}].${key}`);
        }),
        { numRuns: RUNS / 2 },
      );
      const envelope = `{"transfers":[${JSON.stringify(validTransfer())}],"transfers":[${JSON.stringify(validTransfer())}]}`;
      const { status, text } = await post('/transfers/batch', envelope);
      expectNamedClientError(status, text, 'transfers');
    });

    it('the same id twice with other content in one batch: 400 naming the later one', async () => {
      const first = validTransfer();
      const { status, text } = await post('/transfers/batch', JSON.stringify({ transfers: [first, validTransfer(), { ...first, amount: '2' }] }));
      expectNamedClientError(status, text, 'transfers[2].id');
    });
  });

  describe('reads', () => {
    const pathSegment = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }).map(encodeURIComponent),
      badId.filter((value): value is string => typeof value === 'string').map(encodeURIComponent),
      fc.constantFrom('%', '%zz', '%00', '%ff%fe', '..', '.', '%2e%2e', '%2F', 'a%2Fb', 'x'.repeat(257), 'x'.repeat(5000)),
    );
    const queryValue = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent), fc.constantFrom('-1', '0', '1e3', '501', '9'.repeat(30), '9223372036854775808', '9'.repeat(19), '%', '%zz', ...INJECTIONS.map(encodeURIComponent)));

    it('GET /transfers/:id and /accounts/:account/{transfers,balances,entries} with hostile ids and paging: 2xx, 400 naming the field or 404; never a 5xx', async () => {
      const route = fc.constantFrom('transfer', 'account-transfers', 'balances', 'entries');
      await fc.assert(
        fc.asyncProperty(route, pathSegment, fc.option(queryValue), fc.option(queryValue), async (kind, segment, limit, cursor) => {
          const query = [limit !== null ? `limit=${limit}` : '', cursor !== null ? `cursor=${cursor}` : ''].filter(Boolean).join('&');
          const path = {
            transfer: `/transfers/${segment}`,
            'account-transfers': `/accounts/${segment}/transfers?${query}`,
            balances: `/accounts/${segment}/balances`,
            entries: `/accounts/${segment}/entries?${query}`,
          }[kind];
          const { status, text } = await get(path);
          expectNoServerError(status, text);
          if (status === 400) expectNamedClientError(status, text);
        }),
        { numRuns: RUNS * 2 },
      );
    });

    it('GET /analytics/hourly with hostile currency, from and to: 200 or 400 naming the field', async () => {
      const instant = fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
      const dateValue = fc.oneof(queryValue, instant.map((date) => encodeURIComponent(date.toISOString())), instant.map((date) => date.toISOString().slice(0, 10)));
      await fc.assert(
        fc.asyncProperty(fc.option(queryValue), fc.option(dateValue), fc.option(dateValue), async (currency, from, to) => {
          const query = Object.entries({ currency, from, to })
            .filter(([, value]) => value !== null)
            .map(([key, value]) => `${key}=${value}`)
            .join('&');
          const { status, text } = await get(`/analytics/hourly?${query}`);
          expectNoServerError(status, text);
          if (status !== 200) expectNamedClientError(status, text);
        }),
        { numRuns: RUNS * 2 },
      );
    });

    // Found by this suite: an instant whose UTC value left years 1..9999 passed validation and
    // PostgreSQL refused it (500). readInstant in @modulith/http now rejects it.
    it('GET /analytics/hourly?from=0000-01-01 (or an offset past year 9999) answers 400, not 500', async () => {
      for (const from of ['0000-01-01', encodeURIComponent('9999-12-31T23:59:59-14:00'), encodeURIComponent('0001-01-01T00:00:00+14:00')]) {
        const { status, text } = await get(`/analytics/hourly?from=${from}`);
        expectNamedClientError(status, text, 'from');
      }
    });
  });

  // Found by this suite: an offset that moves the instant out of years 1..9999 in UTC.
  it('POST /transfers with occurredAt 0001-01-01T00:00:00+14:00 or 9999-12-31T23:59:59-14:00 answers 400, not 500', async () => {
    for (const occurredAt of ['0001-01-01T00:00:00+14:00', '9999-12-31T23:59:59-14:00']) {
      const { status, text } = await post('/transfers', JSON.stringify({ ...validTransfer(), occurredAt }));
      expectNamedClientError(status, text, 'occurredAt');
    }
  });

  describe('admin endpoints', () => {
    const adminPath = fc.constantFrom(
      'GET /admin/pipeline',
      'GET /admin/invariants',
      'GET /admin/dead-letters',
      'POST /admin/dead-letters/replay?subscriber=ledger.apply-transfers',
      'POST /admin/dead-letters/00000000-0000-7000-8000-000000000000/replay',
      'GET /%61dmin/pipeline',
      'GET /admin/pipeline/',
    );
    const wrongAuthorization = fc.oneof(
      fc.string({ maxLength: 80 }).filter((value) => !value.includes(TOKEN)),
      fc.string({ maxLength: 40 }).map((value) => `Bearer ${value}`).filter((value) => value.trim() !== `Bearer ${TOKEN}`),
      fc.constantFrom(`Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN.toUpperCase()}`, `Bearer  ${TOKEN} x`, 'Bearer'),
    );

    it('without the right bearer token: always 401 naming authorization, whatever the header says', async () => {
      await fc.assert(
        fc.asyncProperty(adminPath, fc.option(wrongAuthorization), async (line, authorization) => {
          const [method, path] = line.split(' ');
          const headers: Record<string, string> = {};
          if (authorization !== null) headers['authorization'] = authorization.replace(/[\r\n\0]/g, '');
          const { status, text, headers: sent } = await request(method, path, undefined, headers);
          expect(status).toBe(401);
          expectNamedClientError(status, text, 'authorization');
          expect(sent.get('cache-control')).toBe('no-store');
        }),
        { numRuns: RUNS },
      );
    });

    it('with the token, hostile paging and ids: 2xx, 400 naming the field or 404; never a 5xx', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const value = fc
        .oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('0', '-1', '1001', '1e2', 'a\u0000b', ...INJECTIONS))
        .map(encodeURIComponent);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('list', 'replay-one', 'replay-all'), value, value, async (kind, a, b) => {
          const [method, path] = {
            list: ['GET', `/admin/dead-letters?limit=${a}&before=${b}&subscriber=${a}`],
            'replay-one': ['POST', `/admin/dead-letters/${a || 'x'}/replay`],
            'replay-all': ['POST', `/admin/dead-letters/replay?subscriber=${a}`],
          }[kind];
          const { status, text } = await request(method, path, undefined, auth);
          expectNoServerError(status, text);
          if (status === 400) expectNamedClientError(status, text);
        }),
        { numRuns: RUNS },
      );
    });
  });

  // Found by this suite: `subscriber` reached PostgreSQL unchecked and a NUL byte made it fail (500).
  it('/admin/dead-letters?subscriber=a%00b answers 400 naming subscriber, not 500', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const [method, path] of [['GET', '/admin/dead-letters?subscriber=a%00b'], ['POST', '/admin/dead-letters/replay?subscriber=a%00b']]) {
      const { status, text } = await request(method, path, undefined, auth);
      expectNamedClientError(status, text, 'subscriber');
    }
  });

  it('every answer, error or not, carries the security headers and no internals', async () => {
    for (const [method, path] of [['GET', '/health'], ['GET', '/nope'], ['POST', '/transfers'], ['GET', '/admin/pipeline'], ['GET', '/transfers/%zz']]) {
      const { headers, text } = await request(method, path, method === 'POST' ? '{' : undefined);
      expectNoInternals(text);
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('content-security-policy')).toContain("script-src 'self'");
    }
  });
});

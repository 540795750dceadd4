import fc from 'fast-check';
import { connect } from 'node:net';
import { Client } from 'pg';
import { WebSocket } from 'ws';
import { startApp, type RunningApp } from '../testing/app.fixture';
import { badId, INJECTIONS, notAString } from './hostile-input.arbitraries';
import { expectNamedClientError, expectNoInternals } from './hostile-input.expectations';

jest.setTimeout(120_000);

const REQUEST_TIMEOUT_MS = 2000;
const HEADERS_TIMEOUT_MS = 1000;
const BODY_LIMIT = 64 * 1024;

type Step = string | Buffer | { pauseMs: number } | 'end';

interface Exchange {
  text: string;
  status?: number;
  closed: boolean;
  elapsedMs: number;
}

/** Plays `steps` on a raw TCP connection; collects what comes back until the server closes or `waitMs` passes. */
function exchange(port: number, steps: Step[], waitMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      resolve({ text, status: status ? Number(status) : undefined, closed, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', async () => {
      for (const step of steps) {
        if (closed) return;
        if (step === 'end') socket.end();
        else if (typeof step === 'object' && 'pauseMs' in step) await new Promise((r) => setTimeout(r, step.pauseMs));
        else socket.write(step);
      }
    });
  });
}

const slowly = (chunks: string[], pauseMs: number): Step[] => chunks.flatMap((chunk) => [chunk, { pauseMs }]);

/**
 * Hostile input below and beside the JSON layer: raw sockets that are slow, truncated, oversized
 * or malformed at the HTTP level, and the WebSocket protocol. The server answers with a 4xx or
 * closes the connection within its time limits, never a 5xx, and writes nothing.
 */
describe('hostile input on raw sockets and the WebSocket', () => {
  let running: RunningApp;
  let port: number;
  let sql: Client;

  beforeAll(async () => {
    running = await startApp({
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_BODY_LIMIT_BYTES: String(BODY_LIMIT),
    });
    port = Number(new URL(running.baseUrl).port);
    sql = new Client({ connectionString: running.database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await running?.close();
  });

  afterEach(async () => {
    const { rows } = await sql.query('SELECT (SELECT count(*) FROM ingestion.transfers)::int AS transfers, (SELECT count(*) FROM messaging.outbox)::int AS outbox');
    expect(rows[0]).toEqual({ transfers: 0, outbox: 0 });
  });

  const transfer = JSON.stringify({ id: 'raw-1', from: 'a', to: 'b', amount: '1', currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' });
  const head = (extra: string) => `POST /transfers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${extra}\r\n`;

  describe('slow and truncated requests', () => {
    it('headers trickling in (slow loris): 408 and closed within the headers timeout', async () => {
      const steps = ['POST /transfers HTTP/1.1\r\nHost: localhost\r\n', ...slowly(Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: 1\r\n`), 250)];
      const result = await exchange(port, steps, 10_000);
      expect(result.closed).toBe(true);
      expect(result.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + 3000);
      if (result.status !== undefined) expect(result.status).toBe(408);
    });

    it('a body trickling in: 408 and closed within the request timeout, nothing stored', async () => {
      const body = JSON.stringify({ transfers: [JSON.parse(transfer)] });
      const chunks = body.match(/.{1,8}/g) as string[];
      const result = await exchange(port, [head(`Content-Length: ${body.length}\r\n`), ...slowly(chunks, 300)], 15_000);
      expect(result.closed).toBe(true);
      expect(result.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 3000);
      if (result.status !== undefined) expect(result.status).toBe(408);
    });

    it('a connection that never sends a byte is closed', async () => {
      const result = await exchange(port, [], 10_000);
      expect(result.closed).toBe(true);
      expect(result.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 3000);
    });

    it('a body cut short (the client closes its side): a 4xx or a plain close, nothing stored', async () => {
      const result = await exchange(port, [head(`Content-Length: ${transfer.length + 100}\r\n`), transfer.slice(0, 40), 'end'], 8000);
      expect(result.closed).toBe(true);
      if (result.status !== undefined) expect(result.status).toBeGreaterThanOrEqual(400);
      if (result.status !== undefined) expect(result.status).toBeLessThan(500);
    });

    it('a body shorter than its content-length, connection left open: 408 after the request timeout', async () => {
      const result = await exchange(port, [head(`Content-Length: ${transfer.length + 100}\r\n`), transfer], 10_000);
      expect(result.closed).toBe(true);
      if (result.status !== undefined) expect(result.status).toBe(408);
    });

    it('random cuts of a valid request, then close: never a 5xx and nothing stored', async () => {
      const whole = `${head(`Content-Length: ${transfer.length}\r\n`)}${transfer}`;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: whole.length - 1 }), async (cut) => {
          const result = await exchange(port, [whole.slice(0, cut), 'end'], 5000);
          if (result.status !== undefined) expect(result.status).toBeLessThan(500);
          expectNoInternals(result.text);
        }),
        { numRuns: 30 },
      );
    });
  });

  describe('malformed HTTP', () => {
    it.each([
      ['a declared body over the limit, refused before it is sent', 413, head('Content-Length: 10000000\r\n')],
      ['a chunked body that grows past the limit', 413, `${head('Transfer-Encoding: chunked\r\n')}${`4000\r\n${'x'.repeat(0x4000)}\r\n`.repeat(5)}`],
      ['both content-length and transfer-encoding (request smuggling)', 400, `${head('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n')}0\r\n\r\n`],
      ['a content-length that is not a number', 400, `${head('Content-Length: abc\r\n')}{}`],
      ['two different content-lengths', 400, `${head('Content-Length: 2\r\nContent-Length: 3\r\n')}{}`],
      ['a garbage request line', 400, 'GARBAGE\r\n\r\n'],
      ['a header over 16 KiB', 431, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
      ['a control character in a header', 400, `GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n`],
    ])('%s: %i', async (_label, status, request) => {
      const result = await exchange(port, [request], 8000);
      expect(result.status).toBe(status);
      expectNoInternals(result.text);
    });

    it('a transfer sent as text/plain or without a content type: 415 naming the content type', async () => {
      for (const type of ['Content-Type: text/plain\r\n', '']) {
        const request = `POST /transfers HTTP/1.1\r\nHost: x\r\n${type}Content-Length: ${transfer.length}\r\nConnection: close\r\n\r\n${transfer}`;
        const result = await exchange(port, [request], 8000);
        expect(result.status).toBe(415);
        const body = result.text.slice(result.text.indexOf('\r\n\r\n') + 4);
        expectNamedClientError(415, body, 'content-type');
      }
    });
  });

  describe('WebSocket /ws', () => {
    const open = async () => {
      const socket = new WebSocket(`${running.baseUrl.replace('http', 'ws')}/ws`);
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      return socket;
    };
    const reply = (socket: WebSocket, frame: string | Buffer) =>
      new Promise<{ type: string; message?: string; accounts?: string[] }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${String(frame).slice(0, 80)}`)), 5000);
        socket.once('message', (data) => {
          clearTimeout(timer);
          resolve(JSON.parse(data.toString()));
        });
        socket.send(frame);
      });

    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
      fc.record({ action: fc.oneof(fc.string({ maxLength: 12 }), notAString), accounts: fc.array(fc.constant('acc-1'), { minLength: 1, maxLength: 2 }) }).map((v) => JSON.stringify(v)),
      fc.record({ action: fc.constantFrom('subscribe', 'unsubscribe'), accounts: fc.oneof(fc.array(badId, { minLength: 1, maxLength: 3 }), notAString, fc.constant([])) }).map((v) => JSON.stringify(v)),
      fc.record({ action: fc.constant('subscribe'), accounts: fc.constant(['acc-1']), extra: fc.jsonValue() }).map((v) => JSON.stringify(v)),
      fc.constantFrom(...INJECTIONS, '{"action":"subscribe"', '{"action":"subscribe","accounts":["a"],"__proto__":{"admin":true}}'),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    );

    it('any frame: one reply, an error naming the field unless it was a valid command; the connection stays usable', async () => {
      const socket = await open();
      try {
        await fc.assert(
          fc.asyncProperty(frame, async (sent) => {
            const answer = await reply(socket, sent);
            expectNoInternals(JSON.stringify(answer));
            if (answer.type === 'error') {
              expect(answer.message).toMatch(/^(message|action|accounts|\[""\]|[^\s]*)(\[\d+\])?(: |[^:]*: )/s);
              expect(answer.message).not.toBe('internal error');
            } else {
              expect(['subscribed', 'unsubscribed']).toContain(answer.type);
            }
          }),
          { numRuns: 150 },
        );
        expect(await reply(socket, JSON.stringify({ action: 'subscribe', accounts: ['acc-ok'] }))).toMatchObject({ type: 'subscribed' });
      } finally {
        socket.close();
      }
    });

    it('too many accounts, and a frame over 64 KiB: named errors, or a close for a frame too big; the server keeps serving', async () => {
      const socket = await open();
      const many = await reply(socket, JSON.stringify({ action: 'subscribe', accounts: Array.from({ length: 1001 }, (_, i) => `a-${i}`) }));
      expect(many).toEqual({ type: 'error', message: expect.stringMatching(/^accounts: /) });
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      const huge = await Promise.race([reply(socket, 'x'.repeat(1024 * 1024)), closed.then((code) => ({ type: 'closed', code }))]);
      if (huge.type === 'closed') expect((huge as { code: number }).code).toBe(1009);
      else expect(huge).toEqual({ type: 'error', message: expect.stringMatching(/^message: /) });
      socket.terminate();
      const other = await open();
      expect(await reply(other, JSON.stringify({ action: 'subscribe', accounts: ['acc-1'] }))).toMatchObject({ type: 'subscribed' });
      other.close();
    });
  });
});

import { Logger, type INestApplication } from '@nestjs/common';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { appConfigFromEnv } from '../app.config';
import { createApp, createLogger } from '../bootstrap';

const ADMIN_TOKEN = 'correlation-admin-token-4242';

interface LogLine {
  level: string;
  time: string;
  msg?: string;
  context?: string;
  module?: string;
  correlationId?: string;
  causationId?: string;
  [key: string]: unknown;
}

// One app per file: nestjs-pino keeps one root logger per process (see createLogger).
describe('structured logs with correlation ids (whole app, real PostgreSQL)', () => {
  const raw: string[] = [];
  const lines = (): LogLine[] => raw.map((line) => JSON.parse(line) as LogLine);
  let database: TestDatabase;
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase('logs');
    const config = {
      ...appConfigFromEnv({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json', ADMIN_TOKEN }),
      database: { ...databaseTestConfig(database.url), url: database.url },
    };
    const logger = createLogger(config, { write: (line: string) => void raw.push(line) });
    app = await createApp(config, logger);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it("follows one request's correlation id through ingestion, ledger, analytics and notifications", async () => {
    const correlationId = 'trace-e2e-0001';
    const response = await fetch(`${baseUrl}/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
      body: JSON.stringify({ id: 't-corr-1', from: 'alice', to: 'bob', amount: '1250', currency: 'EUR', occurredAt: '2026-01-31T12:00:00Z' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-correlation-id')).toBe(correlationId);

    const handledBy = (module: string) => lines().filter((line) => line.context === module && line.msg?.startsWith('handled '));
    await eventually(() => ['ledger', 'analytics', 'notifications'].every((module) => handledBy(module).length > 0), { message: 'every module to handle the events', timeoutMs: 20_000, pollMs: 100 });

    const request = lines().find((line) => line.msg === 'request completed' && (line['req'] as { url?: string })?.url === '/transfers');
    expect(request).toMatchObject({ level: 'info', module: 'ingestion', correlationId, res: { statusCode: 201 } });
    // The ledger applies the transfer, then records each posting's BalanceChanged on its running statement.
    await eventually(() => handledBy('ledger').length === 2, { message: 'the ledger to apply the transfer and record both statement lines', timeoutMs: 20_000, pollMs: 100 });
    expect(handledBy('ledger')).toEqual([
      expect.objectContaining({ level: 'debug', correlationId, msg: expect.stringContaining('ingestion.transfer-ingested') }),
      expect.objectContaining({ level: 'debug', correlationId, msg: expect.stringContaining('ledger.balance-changed (ledger.statement)') }),
    ]);
    expect(handledBy('analytics')).toEqual([expect.objectContaining({ correlationId, msg: expect.stringContaining('ingestion.transfer-ingested') })]);
    // Two postings, two BalanceChanged events, each handled under the same correlation and caused by its own event.
    const notified = handledBy('notifications');
    expect(notified).toHaveLength(2);
    for (const line of notified) expect(line).toMatchObject({ correlationId, causationId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    // Every line logged while handling this request or its events carries its id.
    const handling = lines().filter((line) => ['ingestion', 'ledger', 'analytics', 'notifications'].includes(String(line.module ?? line.context)));
    expect(handling.length).toBeGreaterThanOrEqual(5);
    for (const line of handling) expect(line.correlationId).toBe(correlationId);
  }, 60_000);

  it('makes an id when the caller sends none, and logs it', async () => {
    const response = await fetch(`${baseUrl}/accounts/alice/balances`);
    const made = response.headers.get('x-correlation-id');
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(() => lines().some((line) => line.correlationId === made && line.msg === 'request completed'), { message: 'the request line', timeoutMs: 20_000, pollMs: 100 });
    expect(lines().find((line) => line.correlationId === made)).toMatchObject({ module: 'ledger' });
  });

  it('writes JSON lines with level names and never prints secrets', async () => {
    await fetch(`${baseUrl}/admin/pipeline`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    new Logger('Secrets').warn(`cannot reach postgres://modulith:pg-s3cret@db.internal:5432/app with token ${ADMIN_TOKEN}`);
    new Logger('Secrets').log({ message: 'config', adminToken: ADMIN_TOKEN, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await eventually(() => lines().filter((line) => line.context === 'Secrets').length === 2, { message: 'the secret lines', timeoutMs: 20_000, pollMs: 100 });

    const all = raw.join('\n');
    expect(all).not.toContain(ADMIN_TOKEN);
    expect(all).not.toContain('pg-s3cret');
    const [warned, logged] = lines().filter((line) => line.context === 'Secrets');
    expect(warned.msg).toBe('cannot reach postgres://modulith:[redacted]@db.internal:5432/app with token [redacted]');
    expect(logged).toMatchObject({ adminToken: '[redacted]', headers: { authorization: '[redacted]' } });
    for (const line of lines()) {
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
    }
  });
});

import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { assertBundle, MAIN, startApi } from './testing/app-processes';

/** Start-up bound (`E2E_START_TIMEOUT_MS`, 60 s): a fixed 20 s failed once on CI with two projects' tests side by side. */
const START_TIMEOUT_MS = Number(process.env['E2E_START_TIMEOUT_MS'] ?? 60_000);

describe('the built app as a process', () => {
  let testDb: TestDatabase;

  beforeAll(async () => {
    assertBundle();
    testDb = await createTestDatabase('process');
  });

  afterAll(() => testDb?.drop());

  it('"migrate" applies every module\'s migrations and exits', async () => {
    const result = spawnSync(process.execPath, [MAIN, 'migrate'], {
      env: { ...process.env, DATABASE_URL: testDb.url, LOG_FORMAT: 'json' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('ingestion: applied 0001-create-transfers');
    const again = spawnSync(process.execPath, [MAIN, 'migrate'], { env: { ...process.env, DATABASE_URL: testDb.url }, encoding: 'utf8' });
    expect(again.stdout).toContain('ingestion: up to date');
  });

  it('"dead-letters" lists dead letters and explains its usage', () => {
    const env = { ...process.env, DATABASE_URL: testDb.url, LOG_LEVEL: 'warn' };
    const list = spawnSync(process.execPath, [MAIN, 'dead-letters', 'list'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(list.status).toBe(0);
    expect(list.stdout).toContain('subscriber\tevent type');
    const usage = spawnSync(process.execPath, [MAIN, 'dead-letters', 'bogus'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(usage.status).toBe(2);
    expect(usage.stdout).toContain('dead-letters replay-all <subscriber>');
  });

  it('refuses an unknown module name in MODULES with a message naming it', async () => {
    const result = spawnSync(process.execPath, [MAIN], { env: { ...process.env, DATABASE_URL: testDb.url, MODULES: 'ingestion,nope' }, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain('MODULES names unknown module "nope"');
  });

  it('MODULES=none serves with no business module (a process that only calls the others); "verify" with VERIFY_QUERIES=remote needs Redis and says so', async () => {
    const app = await startApi('modules-none', { DATABASE_URL: testDb.url, LOG_LEVEL: 'log', MODULES: 'none', RELAY_ENABLED: 'false' });
    try {
      expect(await (await fetch(`${app.baseUrl}/health`)).json()).toEqual({ status: 'ok', modules: [] });
      expect((await fetch(`${app.baseUrl}/accounts/a/balances`)).status).toBe(404);
    } finally {
      app.child.kill('SIGKILL');
    }
    const verify = spawnSync(process.execPath, [MAIN, 'verify'], { env: { ...process.env, DATABASE_URL: testDb.url, VERIFY_QUERIES: 'remote' }, encoding: 'utf8', timeout: 30_000 });
    expect(verify.status).toBe(1);
    expect(verify.stdout + verify.stderr).toContain('VERIFY_QUERIES=remote sends the invariant check');
  }, START_TIMEOUT_MS + 60_000);

  it('on SIGTERM finishes the request in flight, then exits cleanly', async () => {
    const app = await startApi('sigterm', { DATABASE_URL: testDb.url, LOG_LEVEL: 'log' });
    const baseUrl = app.baseUrl;
    try {
      const transfers = Array.from({ length: 10_000 }, (_, i) => ({
        id: `sigterm-${i}`,
        from: 'a',
        to: 'b',
        amount: '1',
        currency: 'EUR',
        occurredAt: '2026-01-01T00:00:00Z',
      }));
      // The body is sent in two halves with the SIGTERM in between, so the request is
      // certainly in flight (headers parsed, body still arriving) when the signal lands.
      const json = JSON.stringify({ transfers });
      const half = Math.floor(json.length / 2);
      let sendRest: () => void = () => undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(json.slice(0, half)));
          sendRest = () => {
            controller.enqueue(new TextEncoder().encode(json.slice(half)));
            controller.close();
          };
        },
      });
      const inFlight = fetch(`${baseUrl}/transfers/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
      await new Promise((resolve) => setTimeout(resolve, 300));
      app.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      sendRest();
      const response = await inFlight;
      expect(response.status).toBe(201);
      expect((await app.exited).code).toBe(0);
      expect(app.output()).toContain('shut down cleanly');
      await expect(fetch(`${baseUrl}/health`)).rejects.toThrow();

      const sql = new Client({ connectionString: testDb.url });
      await sql.connect();
      const [{ count }] = (await sql.query('SELECT count(*)::int AS count FROM ingestion.transfers')).rows;
      await sql.end();
      expect(count).toBe(10_000);
    } finally {
      app.child.kill('SIGKILL');
    }
  }, START_TIMEOUT_MS + 60_000);
});

import { Client } from 'pg';
import { eventually, TEST_SERVER_URL } from '@modulith/testing';
import { startApp, type RunningApp } from '../testing/app.fixture';
import { MODULE_CATALOG } from '../module-catalog';

interface Readiness {
  status: string;
  info: Record<string, { status: string } & Record<string, unknown>>;
  error: Record<string, { status: string } & Record<string, unknown>>;
}

describe('GET /ready (whole app, real PostgreSQL)', () => {
  let running: RunningApp;
  let sql: Client;
  const ready = async (): Promise<{ status: number; body: Readiness }> => {
    const response = await fetch(`${running.baseUrl}/ready`);
    return { status: response.status, body: (await response.json()) as Readiness };
  };

  beforeAll(async () => {
    running = await startApp();
    sql = new Client({ connectionString: running.database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await running?.close();
  });

  it('answers 200 with each check when the database answers, migrations are applied and the relay runs', async () => {
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info['database']).toMatchObject({ status: 'up' });
    expect(body.info['migrations']).toMatchObject({ status: 'up', modules: expect.arrayContaining(['messaging', 'ingestion', 'ledger', 'analytics']) });
    expect(body.info['relay']).toEqual({ status: 'up', state: 'running' });
    // The in-process transport has no broker to reach.
    expect(body.info['transport']).toBeUndefined();
    // Liveness stays as it was: no dependency checked.
    expect(await (await fetch(`${running.baseUrl}/health`)).json()).toEqual({ status: 'ok', modules: Object.keys(MODULE_CATALOG) });
  });

  it('answers 503 naming the module whose migrations are pending', async () => {
    const [{ name }] = (await sql.query('SELECT name FROM ledger.schema_migrations ORDER BY name DESC LIMIT 1')).rows;
    await sql.query('DELETE FROM ledger.schema_migrations WHERE name = $1', [name]);
    try {
      const { status, body } = await ready();
      expect(status).toBe(503);
      expect(body.status).toBe('error');
      expect(body.error['migrations']).toMatchObject({ status: 'down', pending: { ledger: [name] } });
      expect(body.info['database']).toMatchObject({ status: 'up' });
    } finally {
      await sql.query('INSERT INTO ledger.schema_migrations (name) VALUES ($1)', [name]);
    }
    expect((await ready()).status).toBe(200);
  });

  it('answers 503 while the database refuses connections, and 200 again once it is back', async () => {
    const admin = new Client({ connectionString: TEST_SERVER_URL });
    await admin.connect();
    const database = running.database.name;
    try {
      await sql.end();
      await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database]);
      const { status, body } = await ready();
      expect(status).toBe(503);
      expect(body.error['database']).toMatchObject({ status: 'down' });
      expect(String(body.error['database']['message'])).not.toBe('');
    } finally {
      await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
      await admin.end();
      sql = new Client({ connectionString: running.database.url });
      await sql.connect();
    }
    // The pool reconnects on its own.
    let status = 0;
    await eventually(async () => (status = (await ready()).status) === 200, { message: '/ready to answer 200', timeoutMs: 15_000, pollMs: 250 }).catch(() => undefined);
    expect(status).toBe(200);
  }, 30_000);
});

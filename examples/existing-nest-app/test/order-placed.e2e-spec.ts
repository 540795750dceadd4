import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { AppModule } from '../src/app.module';

// The server this suite creates (and drops) its own database on.
const SERVER_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
// Bound of each wait for an event to arrive, in milliseconds.
const EVENT_TIMEOUT_MS = Number(process.env['EXAMPLE_EVENT_TIMEOUT_MS'] ?? 15_000);

async function onServer<T>(work: (client: Client) => Promise<T>, url = SERVER_URL): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Polls `read` until `done` holds; fails naming `what` after EVENT_TIMEOUT_MS. */
async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${EVENT_TIMEOUT_MS} ms waiting for ${what}; last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('an existing NestJS + TypeORM app on the Modulith packages', () => {
  const database = `shop_e2e_${randomBytes(4).toString('hex')}`;
  const databaseUrl = Object.assign(new URL(SERVER_URL), { pathname: `/${database}` }).toString();
  let app: INestApplication;
  let baseUrl: string;

  const invoices = () =>
    onServer(
      async (c) => (await c.query<{ order_id: string; amount: number }>('SELECT order_id, amount FROM billing.invoices ORDER BY id')).rows,
      databaseUrl,
    );

  const placeOrder = async (id: string, total: number): Promise<void> => {
    const response = await fetch(`${baseUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, total }),
    });
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    await onServer((c) => c.query(`CREATE DATABASE "${database}"`));
    app = await NestFactory.create(AppModule.forRoot({ databaseUrl }), { logger: ['error', 'warn'] });
    await app.listen(0, '127.0.0.1');
    baseUrl = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await onServer((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
  });

  it('applies each module’s migrations into its own schema', async () => {
    const tables = await onServer(
      async (c) =>
        (await c.query<{ name: string }>(`SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
                         WHERE table_schema IN ('orders', 'billing') AND table_name IN ('orders', 'invoices', 'inbox') ORDER BY 1`)).rows,
      databaseUrl,
    );
    expect(tables.map((t) => t.name)).toEqual(['billing.inbox', 'billing.invoices', 'orders.orders']);
  });

  it('delivers the event of a placed order to the other module exactly once, even when it is sent again', async () => {
    await placeOrder('o-1', 1250);
    expect(await eventually('the invoice of o-1', invoices, (rows) => rows.length > 0)).toEqual([{ order_id: 'o-1', amount: 1250 }]);

    // The relay dies after handing the event over, before it could record that: the event is
    // in the outbox again and is delivered a second time.
    await onServer(
      (c) =>
        c.query(`INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, payload)
                 SELECT event_id, 'orders.order-placed', 1, now(), 'orders', 'redelivery', '{"orderId":"o-1","total":1250}'
                   FROM billing.inbox`),
      databaseUrl,
    );
    const outboxRows = () => onServer(async (c) => Number((await c.query('SELECT count(*) FROM messaging.outbox')).rows[0].count), databaseUrl);
    await eventually('the relay to take the copy', outboxRows, (count) => count === 0);
    // A subscriber takes events in the order the relay handed them over, so once o-2's invoice
    // exists the copy before it was handled (and skipped).
    await placeOrder('o-2', 990);
    const rows = await eventually('the invoice of o-2', invoices, (r) => r.some((row) => row.order_id === 'o-2'));
    expect(rows).toEqual([
      { order_id: 'o-1', amount: 1250 },
      { order_id: 'o-2', amount: 990 },
    ]);
  });
});

import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { startApp, type RunningApp } from '../testing/app.fixture';
import { findChromium } from '../testing/chromium';
import { ingestOverHttp, makeTransfers } from '../testing/transfer-load';
import { MODULE_CATALOG } from '../module-catalog';

// What the functions evaluated in the page use of the DOM (the project compiles without DOM types).
declare const document: {
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
  querySelectorAll(selector: string): { length: number };
};

// Under tmp/ (ignored), so a test run leaves git clean; CONSOLE_SCREENSHOT=docs/console.png refreshes the README's picture.
const SCREENSHOT = path.resolve(__dirname, '../../../..', process.env['CONSOLE_SCREENSHOT'] ?? 'tmp/console.png');
const ADMIN_TOKEN = 'console-admin-token';
const TRANSFERS = 6000;

describe('the ops console in headless Chromium (whole app, real PostgreSQL)', () => {
  let browser: Browser;
  let running: RunningApp;
  let page: Page;
  let sql: Client;

  const value = async (name: string) => Number(await page.getAttribute(`[data-figure="${name}"]`, 'data-value'));
  /** Waits until the figure's raw value (`data-value`) compares as asked, e.g. `('handled-rate', '>', 0)`. */
  const waitForValue = (name: string, op: '>' | '>=' | '===', expected: number, timeoutMs = 60_000) =>
    page.waitForFunction(
      ([figure, comparison, target]) => {
        const current = Number(document.querySelector(`[data-figure="${figure}"]`)?.getAttribute('data-value'));
        if (Number.isNaN(current)) return false;
        return comparison === '>' ? current > target : comparison === '>=' ? current >= target : current === target;
      },
      [name, op, expected] as const,
      { timeout: timeoutMs, polling: 100 },
    );

  beforeAll(async () => {
    const { executablePath, args } = findChromium();
    browser = await chromium.launch({ executablePath, args, timeout: 60_000 });
    running = await startApp({ ADMIN_TOKEN });
    sql = new Client({ connectionString: running.database.url });
    await sql.connect();
    page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    page.setDefaultTimeout(60_000);
  }, 120_000);

  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await sql?.end();
    await running?.close();
  });

  it('shows modules, the event flow and live figures that move while transfers are ingested, and replays a dead letter', async () => {
    const consoleErrors: string[] = [];
    page.on('console', (message) => void (message.type() === 'error' && consoleErrors.push(message.text())));
    page.on('pageerror', (error) => void consoleErrors.push(error.message));

    await page.goto(`${running.baseUrl}/?interval=250`);
    await page.waitForSelector('#status.ok');
    expect(await page.title()).toBe('Modulith ops console');
    // This process and its modules (every one in the catalog); the subscriptions between them.
    expect(await page.locator('.process .module').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-module')))).toEqual(
      Object.keys(MODULE_CATALOG),
    );
    expect(await page.locator('#flow tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-subscriber')))).toEqual(
      expect.arrayContaining(['ledger.apply-transfers', 'analytics.record-transfers', 'notifications.forward-balance-changes']),
    );
    expect(await value('handled-total')).toBe(0);

    // A dead letter to replay: an event the ledger has handled, as if it had failed for good.
    await ingestOverHttp(running.baseUrl, makeTransfers(1, 2, 'seed'), 1, 1);
    await waitForValue('handled-total', '>=', 4);
    const [{ event_id: eventId }] = (await sql.query('SELECT event_id FROM ledger.inbox LIMIT 1')).rows;
    await sql.query(
      `INSERT INTO messaging.dead_letters (id, subscriber, event_id, event_type, envelope, error, attempts)
       VALUES (gen_random_uuid(), 'ledger.apply-transfers', $1, 'ingestion.transfer-ingested', $2, 'Error: ledger unavailable (simulated)', 5)`,
      [eventId, JSON.stringify({ id: eventId, type: 'ingestion.transfer-ingested', version: 1, occurredAt: new Date().toISOString(), source: 'ingestion', correlationId: 'c-dead', causationId: null, payload: {} })],
    );
    await waitForValue('dead-letters', '===', 1);
    await page.fill('#admin-token', ADMIN_TOKEN);
    await page.click('#admin-form button');
    await page.waitForSelector('[data-dead-letters="1"]');

    // A WebSocket client following some accounts, so the notifications figures have something to show.
    const socket = new WebSocket(`${running.baseUrl.replace('http', 'ws')}/ws`);
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ action: 'subscribe', accounts: ['acc-1', 'acc-2', 'acc-3'] }));

    // Ingest in small sequential batches so the rates stay up for a few seconds.
    const ingesting = ingestOverHttp(running.baseUrl, makeTransfers(TRANSFERS, 200, 'console'), 100, 1);
    await waitForValue('published-rate', '>', 0);
    await waitForValue('handled-rate', '>', 0);
    // Well into the load, so the screenshot shows it.
    await waitForValue('handled-total', '>=', 4000);
    await waitForValue('module-rate:ledger', '>', 0);
    await waitForValue('module-rate:notifications', '>', 0);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(await ingesting).toBe(TRANSFERS);

    // Once drained: every transfer published once and handled by ledger and analytics, each
    // posting's BalanceChanged published, fanned out by notifications and recorded on its
    // balance's running statement (ledger.statement).
    const transfers = TRANSFERS + 1;
    await waitForValue('published-total', '===', transfers * 3, 120_000);
    await waitForValue('handled-total', '===', transfers * 6, 120_000);
    await waitForValue('outbox-pending', '===', 0);
    expect(await value('notifications-connections')).toBe(1);
    expect(await page.textContent('#flow tr[data-subscriber="ledger.apply-transfers"] td:nth-child(8)')).toBe(transfers.toLocaleString('en-US'));
    // The rates fall back to zero once the traffic stops.
    await waitForValue('handled-rate', '===', 0, 30_000);

    // Replay from the console: the dead letter goes back to its subscriber (whose inbox already has it).
    await page.click(`[data-replay]`);
    await page.waitForSelector('[data-dead-letters="0"]');
    await waitForValue('dead-letters', '===', 0);
    expect(Number((await sql.query('SELECT count(*) FROM messaging.dead_letters')).rows[0].count)).toBe(0);

    socket.close();
    expect(consoleErrors).toEqual([]);
  }, 240_000);

  it('refuses a wrong admin token in the page without showing anything', async () => {
    await page.fill('#admin-token', 'wrong-token');
    await page.click('#admin-form button');
    await page.waitForSelector('#dead-letters .bad');
    expect(await page.textContent('#dead-letters')).toContain('bearer token');
  });

  it('renders the Swagger UI at /docs with every operation and no errors', async () => {
    const errors: string[] = [];
    const docs = await browser.newPage();
    docs.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
    docs.on('pageerror', (error) => void errors.push(error.message));
    await docs.goto(`${running.baseUrl}/docs`);
    await docs.waitForFunction(() => document.querySelectorAll('.opblock').length >= 15, undefined, { timeout: 30_000 });
    expect(await docs.textContent('.info .title')).toContain('Modulith');
    await docs.close();
    expect(errors).toEqual([]);
  });
});

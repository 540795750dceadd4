import { startApp, type RunningApp } from '../testing/app.fixture';
import { ingestOverHttp, makeTransfers } from '../testing/transfer-load';

const ADMIN = { authorization: 'Bearer metrics-admin-token' };

/** The value of one sample line, `name{labels} value`, or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

async function drain(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let quiet = 0; quiet < 2; ) {
    if (Date.now() > deadline) throw new Error('the pipeline did not drain in time');
    const backlog = (await (await fetch(`${baseUrl}/admin/pipeline`, { headers: ADMIN })).json()) as { outboxPending: number; logPending: number; retriesPending: number };
    quiet = backlog.outboxPending === 0 && backlog.logPending === 0 && backlog.retriesPending === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('GET /metrics (whole app, real PostgreSQL)', () => {
  let running: RunningApp;
  const scrape = async () => {
    const response = await fetch(`${running.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  beforeAll(async () => {
    running = await startApp({ ADMIN_TOKEN: 'metrics-admin-token' });
  });

  afterAll(() => running?.close());

  it('moves when transfers are ingested: HTTP by route, published, handled per module, relay batches, backlog', async () => {
    const before = await scrape();
    expect(sample(before, 'modulith_outbox_pending_events')).toBe(0);
    expect(sample(before, 'modulith_events_handled_total', { module: 'ledger' })).toBe(0);

    const transfers = makeTransfers(1500, 50, 'metrics');
    expect(await ingestOverHttp(running.baseUrl, transfers, 500, 2)).toBe(1500);
    await fetch(`${running.baseUrl}/transfers/metrics-0`);
    await fetch(`${running.baseUrl}/transfers/no-such-transfer`);
    await drain(running.baseUrl);

    const after = await scrape();
    const route = (method: string, path: string, status: string) => ({ method, route: path, status_code: status });
    expect(sample(after, 'modulith_http_requests_total', route('POST', '/transfers/batch', '201'))).toBe(3);
    expect(sample(after, 'modulith_http_request_duration_seconds_count', route('POST', '/transfers/batch', '201'))).toBe(3);
    // The route pattern, never the raw URL.
    expect(sample(after, 'modulith_http_requests_total', route('GET', '/transfers/:id', '200'))).toBe(1);
    expect(sample(after, 'modulith_http_requests_total', route('GET', '/transfers/:id', '404'))).toBe(1);
    expect(after).not.toContain('no-such-transfer');

    // Published: one TransferIngested per transfer, one BalanceChanged per posting (two per transfer).
    expect(sample(after, 'modulith_events_published_total', { module: 'ingestion', event_type: 'ingestion.transfer-ingested' })).toBe(1500);
    expect(sample(after, 'modulith_events_published_total', { module: 'ledger', event_type: 'ledger.balance-changed' })).toBe(3000);
    expect(sample(after, 'modulith_events_handled_total', { module: 'ledger', event_type: 'ingestion.transfer-ingested' })).toBe(1500);
    expect(sample(after, 'modulith_events_handled_total', { module: 'analytics', event_type: 'ingestion.transfer-ingested' })).toBe(1500);
    expect(sample(after, 'modulith_events_handled_total', { module: 'notifications', event_type: 'ledger.balance-changed' })).toBe(3000);
    expect(sample(after, 'modulith_event_handler_duration_seconds_count', { module: 'ledger' })).toBeGreaterThan(0);
    expect(sample(after, 'modulith_events_dead_lettered_total', { module: 'ledger' })).toBe(0);
    expect(sample(after, 'modulith_relay_batch_size_sum')).toBe(4500);
    expect(sample(after, 'modulith_relay_batch_size_count')).toBeGreaterThan(0);

    expect(sample(after, 'modulith_outbox_pending_events')).toBe(0);
    expect(sample(after, 'modulith_outbox_oldest_pending_age_seconds')).toBe(0);
    expect(sample(after, 'modulith_dead_letters')).toBe(0);
    // Ordered delivery: nothing held back once drained, the event log read by every subscriber.
    expect(sample(after, 'modulith_held_events')).toBe(0);
    expect(sample(after, 'modulith_held_keys')).toBe(0);
    expect(sample(after, 'modulith_event_log_pending_events')).toBe(0);
    expect(after).toContain('modulith_notifications_connections 0');
    expect(after).toMatch(/^modulith_notifications_dropped_messages_total 0$/m);
    // Process figures: memory and event-loop lag.
    expect(sample(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(after).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    // No Redis transport here, so no consumer-group gauge.
    expect(after).not.toContain('modulith_transport_pending_messages');
  }, 120_000);

  it('shows the outbox backlog and its age while no relay runs', async () => {
    // A second app on its own database, whose relay is off: what it publishes stays in the outbox.
    process.env['RELAY_ENABLED'] = 'false';
    const idle = await startApp({ ADMIN_TOKEN: 'metrics-admin-token' }).finally(() => delete process.env['RELAY_ENABLED']);
    try {
      await ingestOverHttp(idle.baseUrl, makeTransfers(20, 5, 'idle'), 10, 1);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const text = await (await fetch(`${idle.baseUrl}/metrics`)).text();
      expect(sample(text, 'modulith_outbox_pending_events')).toBe(20);
      expect(sample(text, 'modulith_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'modulith_events_published_total', { module: 'ingestion' })).toBe(0);
      expect(sample(text, 'modulith_http_requests_total', { method: 'POST', route: '/transfers/batch', status_code: '201' })).toBe(2);
    } finally {
      await idle.close();
    }
  }, 60_000);
});

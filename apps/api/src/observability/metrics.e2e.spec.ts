import { MessagingMetrics } from '@modulith/messaging/operator';
import { BacklogSampler } from '@modulith/observability';
import { waitForDrain } from '@modulith/testing';
import { startApp, type RunningApp } from '../testing/app.fixture';
import type { PipelineBacklog } from '../testing/pipeline-probes';
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

/** Waits for `drained` on `GET /admin/pipeline`, two looks in a row. */
async function drain(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const look = async () => (await (await fetch(`${baseUrl}/admin/pipeline`, { headers: ADMIN })).json()) as PipelineBacklog;
  await waitForDrain(look, { drained: (look) => look.drained, quietLooks: 2, pollMs: 200, timeoutMs });
}

/** The app configured by `env`, as its process environment would. */
async function startAppWith(env: Record<string, string>): Promise<RunningApp> {
  return startApp({ ...env, ADMIN_TOKEN: 'metrics-admin-token' });
}

describe('GET /metrics (whole app, real PostgreSQL)', () => {
  let running: RunningApp;
  const scrape = async (app = running) => {
    const response = await fetch(`${app.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };
  /** A scrape after a backlog read made now (the background one is an hour apart here). */
  const freshScrape = async (app = running) => {
    await app.app.get(BacklogSampler).refresh();
    return scrape(app);
  };

  beforeAll(async () => {
    running = await startAppWith({ METRICS_BACKLOG_REFRESH_MS: '3600000' });
  }, 60_000);

  afterAll(() => running?.close());

  it('moves when transfers are ingested: HTTP by route, published, handled per module, relay batches, backlog', async () => {
    const before = await freshScrape();
    expect(sample(before, 'modulith_outbox_pending_events')).toBe(0);
    expect(sample(before, 'modulith_events_handled_total', { module: 'ledger' })).toBe(0);

    const transfers = makeTransfers(1500, 50, 'metrics');
    expect(await ingestOverHttp(running.baseUrl, transfers, 500, 2)).toBe(1500);
    await fetch(`${running.baseUrl}/transfers/metrics-0`);
    await fetch(`${running.baseUrl}/transfers/no-such-transfer`);
    await drain(running.baseUrl);

    const after = await freshScrape();
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
    expect(sample(after, 'modulith_relay_batch_size_events_sum')).toBe(4500);
    expect(sample(after, 'modulith_relay_batch_size_events_count')).toBeGreaterThan(0);

    expect(sample(after, 'modulith_outbox_pending_events')).toBe(0);
    expect(sample(after, 'modulith_outbox_oldest_pending_age_seconds')).toBe(0);
    expect(sample(after, 'modulith_dead_letter_events')).toBe(0);
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
    // Renamed for promtool: the per-type gauges stay, their `_total` sums (gauges) are gone.
    expect(after).toMatch(/^nodejs_active_handles\{type="/m);
    expect(after).not.toContain('nodejs_active_handles_total');
  }, 120_000);

  it('answers a scrape from memory: however many scrapes, no backlog query', async () => {
    await running.app.get(BacklogSampler).refresh();
    const reads = jest.spyOn(running.app.get(MessagingMetrics), 'backlog');
    try {
      const texts = await Promise.all(Array.from({ length: 10 }, () => scrape()));
      expect(reads).not.toHaveBeenCalled();
      // What they show is the last read's, and says how old it is and how long the read took.
      for (const text of texts) {
        expect(sample(text, 'modulith_outbox_pending_events')).toBe(0);
        expect(sample(text, 'modulith_backlog_sample_age_seconds')).toBeGreaterThanOrEqual(0);
        expect(text).toMatch(/^modulith_backlog_sample_duration_seconds \d/m);
      }
    } finally {
      reads.mockRestore();
    }
  });

  it('shows NaN, not a stale zero, while the backlog cannot be read, and the figures again once it can', async () => {
    const reads = jest.spyOn(running.app.get(MessagingMetrics), 'backlog').mockRejectedValueOnce(new Error('database away'));
    try {
      const failing = await freshScrape();
      for (const name of ['modulith_outbox_pending_events', 'modulith_retries_pending_events', 'modulith_dead_letter_events', 'modulith_held_keys']) {
        expect(sample(failing, name)).toBeNaN();
      }
      // The age goes on from the last read that worked.
      expect(sample(failing, 'modulith_backlog_sample_age_seconds')).toBeGreaterThanOrEqual(0);
      expect(sample(await freshScrape(), 'modulith_outbox_pending_events')).toBe(0);
    } finally {
      reads.mockRestore();
    }
  });

  it('shows the outbox backlog and its age while no relay runs', async () => {
    // A second app on its own database, whose relay is off: what it publishes stays in the outbox.
    const idle = await startAppWith({ RELAY_ENABLED: 'false', METRICS_BACKLOG_REFRESH_MS: '3600000' });
    try {
      await ingestOverHttp(idle.baseUrl, makeTransfers(20, 5, 'idle'), 10, 1);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const text = await freshScrape(idle);
      expect(sample(text, 'modulith_outbox_pending_events')).toBe(20);
      expect(sample(text, 'modulith_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'modulith_events_published_total', { module: 'ingestion' })).toBe(0);
      expect(sample(text, 'modulith_http_requests_total', { method: 'POST', route: '/transfers/batch', status_code: '201' })).toBe(2);
    } finally {
      await idle.close();
    }
  }, 60_000);
});

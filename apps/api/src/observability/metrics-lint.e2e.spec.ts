import { MessagingMetrics } from '@modulith/messaging/operator';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from '@modulith/messaging/testing';
import { BacklogSampler } from '@modulith/observability';
import { waitForDrain } from '../invariants/pipeline-drain';
import { startApp } from '../testing/app.fixture';
import { checkMetrics } from '../testing/promtool';
import { ingestOverHttp, makeTransfers } from '../testing/transfer-load';

// `promtool check metrics` (Prometheus's own linter: counters end in _total and nothing else does,
// base units, help texts, ...) on real scrapes of the whole app, after traffic so that labelled
// series exist: once per transport, as the Redis one adds its own metrics.
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const WAIT_MS = Number(process.env['METRICS_TEST_WAIT_MS'] ?? 60_000);

/** Starts the app configured by `env`, serves traffic, drains, scrapes. */
async function scrapeAfterTraffic(env: Record<string, string>): Promise<string> {
  const running = await startApp(env);
  try {
    expect(await ingestOverHttp(running.baseUrl, makeTransfers(200, 20, 'lint'), 100, 2)).toBe(200);
    await fetch(`${running.baseUrl}/transfers/lint-0`);
    await fetch(`${running.baseUrl}/no-such-route`);
    expect((await waitForDrain(running.app.get(MessagingMetrics), WAIT_MS)).drained).toBe(true);
    await running.app.get(BacklogSampler).refresh();
    return await (await fetch(`${running.baseUrl}/metrics`)).text();
  } finally {
    await running.close();
  }
}

function expectPromtoolClean(text: string): void {
  const { ok, complaints } = checkMetrics(text);
  // The complaints themselves, so a failure names each misnamed metric.
  expect(complaints).toEqual([]);
  expect(ok).toBe(true);
}

describe('GET /metrics passes promtool check metrics', () => {
  let inProcess: string;

  it('with the in-process transport', async () => {
    inProcess = await scrapeAfterTraffic({});
    expect(inProcess).toContain('modulith_events_handled_total{');
    expectPromtoolClean(inProcess);
  }, 120_000);

  it('with the Redis Streams transport', async () => {
    await requireRedis(REDIS_URL);
    const prefix = redisTestPrefix('metrics-lint');
    try {
      const text = await scrapeAfterTraffic({ EVENT_TRANSPORT: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix });
      expect(text).toContain('modulith_transport_pending_messages{');
      expectPromtoolClean(text);
    } finally {
      await deleteRedisKeys(REDIS_URL, prefix);
    }
  }, 120_000);

  it('the check can fail: a gauge named like a counter is refused, by name', () => {
    const planted = '# HELP modulith_planted_total A gauge misnamed on purpose\n# TYPE modulith_planted_total gauge\nmodulith_planted_total 1\n';
    const { ok, complaints } = checkMetrics(`${inProcess ?? ''}${planted}`);
    expect(ok).toBe(false);
    expect(complaints).toEqual([expect.stringMatching(/^modulith_planted_total .*_total/)]);
  });
});

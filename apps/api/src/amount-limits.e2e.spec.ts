import type { LedgerEntryPage } from '@modulith/ledger/contracts';
import type { DeadLetter } from '@modulith/messaging/operator';
import type { InvariantReport } from './invariants/invariants.service';
import { startApp, type RunningApp } from './testing/app.fixture';
import { ADMIN, ADMIN_TOKEN } from './testing/app-processes';
import { readJson } from './testing/http-json';
import { waitForPipelineDrain } from './testing/pipeline-probes';

const DRAIN_TIMEOUT_MS = Number(process.env['E2E_DRAIN_TIMEOUT_MS'] ?? 120_000);
const MAX = 9_223_372_036_854_775_807n; // the largest amount the API accepts: 2^63-1
const times = (n: number) => (MAX * BigInt(n)).toString();
const HOUR = '2026-03-01T09:00:00.000Z';

const transfer = (id: string, from: string, to: string) => ({ id, from, to, amount: MAX.toString(), currency: 'CHF', occurredAt: '2026-03-01T09:30:00Z' });

/**
 * What the API accepts (201), every consumer applies: the per-transfer limit (2^63-1) is the
 * only one, and balances and volumes built from many maximum amounts stay exact past 64 bits.
 */
describe('maximum amounts end to end (one process, real PostgreSQL)', () => {
  let running: RunningApp;

  const get = async <T = unknown>(path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${running.baseUrl}${path}`, { headers });
    expect(response.status).toBe(200);
    return readJson<T>(response);
  };
  const post = (path: string, body: unknown) =>
    fetch(`${running.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    running = await startApp({ ADMIN_TOKEN });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('accepts three maximum amounts into one account and three out of another, and every consumer applies them exactly', async () => {
    // One at a time (each its own ledger batch), then a batch request (one ledger batch at most).
    for (const [index, from] of ['src-1', 'src-2'].entries()) {
      expect((await post('/transfers', transfer(`max-in-${index}`, from, 'whale'))).status).toBe(201);
    }
    expect((await post('/transfers', transfer('max-out-0', 'spender', 'dst-0'))).status).toBe(201);
    const batch = await post('/transfers/batch', {
      transfers: [transfer('max-in-2', 'src-3', 'whale'), transfer('max-out-1', 'spender', 'dst-1'), transfer('max-out-2', 'spender', 'dst-2')],
    });
    expect(batch.status).toBe(201);
    expect(await batch.json()).toEqual({ accepted: 3, replayed: 0 });

    await waitForPipelineDrain(running.baseUrl, DRAIN_TIMEOUT_MS);

    expect((await get<{ items: DeadLetter[]; nextBefore: string | null }>('/admin/dead-letters', ADMIN)).items).toEqual([]);
    expect(await get('/accounts/whale/balances')).toEqual({ account: 'whale', balances: [{ currency: 'CHF', balance: times(3), entrySeq: expect.stringMatching(/^[1-9][0-9]*$/) }] });
    expect(await get('/accounts/spender/balances')).toEqual({ account: 'spender', balances: [{ currency: 'CHF', balance: `-${times(3)}`, entrySeq: expect.stringMatching(/^[1-9][0-9]*$/) }] });
    const entries = await get<LedgerEntryPage>('/accounts/spender/entries');
    expect(entries.items.map((entry) => entry.balanceAfter)).toEqual([`-${times(3)}`, `-${times(2)}`, `-${times(1)}`]);

    expect(await get('/analytics/hourly?currency=CHF')).toEqual({
      buckets: [{ hour: HOUR, currency: 'CHF', count: 6, volume: times(6), largest: MAX.toString() }],
      nextCursor: null,
    });

    const report = await get<InvariantReport>('/admin/invariants', ADMIN);
    expect(report.results.filter((result) => !result.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  }, DRAIN_TIMEOUT_MS + 30_000);
});

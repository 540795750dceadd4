import { eventually } from '@modulith/testing';
import { Client } from 'pg';
import { WebSocket } from 'ws';
import type { HourlyVolume } from '@modulith/analytics/contracts';
import type { AccountBalances, StatementPage } from '@modulith/ledger/contracts';
import { ConnectionRegistry } from '@modulith/notifications';
import type { InvariantReport } from './invariants/invariants.service';
import { startApp, type RunningApp } from './testing/app.fixture';
import { ADMIN, ADMIN_TOKEN } from './testing/app-processes';
import { readError, readJson } from './testing/http-json';
import { ledgerEntries, openBalanceReader, seqsByCurrency, waitForPipelineDrain } from './testing/pipeline-probes';
import { ingestOverHttp, makeTransfers } from './testing/transfer-load';

const TRANSFERS = Number(process.env['E2E_TRANSFERS'] ?? 100_000);
const DRAIN_TIMEOUT_MS = Number(process.env['E2E_DRAIN_TIMEOUT_MS'] ?? 120_000);

/** The balance after the last line of an account's running statement in one currency. */
async function lastStatementBalance(baseUrl: string, account: string, currency: string): Promise<string | undefined> {
  let cursor: string | null = null;
  let last: string | undefined;
  do {
    const response = await fetch(`${baseUrl}/accounts/${account}/statements/${currency}?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    const page = await readJson<StatementPage>(response);
    last = page.lines.at(-1)?.balanceAfter ?? last;
    cursor = page.nextCursor;
  } while (cursor);
  return last;
}

describe('the transfer ledger indexer end to end (one process, real PostgreSQL)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    process.env['ADMIN_TOKEN'] = ADMIN_TOKEN;
    running = await startApp({ ADMIN_TOKEN });
  });

  afterAll(async () => {
    await running?.close();
    delete process.env['ADMIN_TOKEN'];
  });

  it(`ingests ${TRANSFERS} transfers over HTTP, drains, keeps every invariant, and streams balance changes in commit order per account and currency`, async () => {
    const watched = ['acc-7', 'acc-42'];
    const reader = await openBalanceReader(running.baseUrl, watched);
    // A client that subscribes to every busy account and then never reads again.
    const stalled = await openBalanceReader(running.baseUrl, Array.from({ length: 1000 }, (_, i) => `acc-${i}`));
    (stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause();

    const transfers = makeTransfers(TRANSFERS, 2000, 'e2e');
    expect(await ingestOverHttp(running.baseUrl, transfers)).toBe(TRANSFERS);
    await waitForPipelineDrain(running.baseUrl, 240_000);

    const report = await readJson<InvariantReport>(await fetch(`${running.baseUrl}/admin/invariants`, { headers: ADMIN }));
    expect(report.results.filter((result) => !result.ok)).toEqual([]);
    expect(report.ok).toBe(true);

    // The reader saw each watched balance's changes, all of them, in the ledger's commit order:
    // BalanceChanged is ordered per account and currency (no order across currencies). Best-effort
    // delivery is not part of the drain above, so the last changes may still be on their way.
    for (const account of watched) {
      const expected = await ledgerEntries(running.baseUrl, account);
      expect(expected.length).toBeGreaterThan(0);
      const received = () => reader.messages.filter((message) => message.account === account).map((message) => ({ currency: message.currency, seq: message.entrySeq }));
      await eventually(() => received().length >= expected.length, { message: `${account}'s ${expected.length} balance changes on the WebSocket`, timeoutMs: DRAIN_TIMEOUT_MS });
      expect(seqsByCurrency(received())).toEqual(seqsByCurrency(expected));
    }

    const last = reader.messages.filter((message) => message.account === 'acc-7').at(-1);
    const balances = await readJson<AccountBalances>(await fetch(`${running.baseUrl}/accounts/acc-7/balances`));
    expect(balances.balances).toContainEqual({ currency: last?.currency, balance: last?.balance, entrySeq: last?.entrySeq });
    // Its running statement in that currency ends at the same balance (the invariant check compares every line).
    expect(await lastStatementBalance(running.baseUrl, 'acc-7', String(last?.currency))).toBe(last?.balance);

    // The stalled client lost messages, counted, within its bounded queue (so its memory is bounded:
    // the slow-consumer benchmark samples RSS over 1M events); the reader above missed nothing.
    const stats = running.app.get(ConnectionRegistry).stats();
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.queued).toBeLessThanOrEqual(2 * 1000);

    reader.socket.close();
    stalled.socket.terminate();
  }, 480_000); // 100k transfers through every module: a bound, not a timing (218 s seen under load)

  it('fails the invariant check when one line of a running statement is wrong, and passes again once it is right', async () => {
    await ingestOverHttp(running.baseUrl, makeTransfers(50, 5, 'statement'));
    await waitForPipelineDrain(running.baseUrl, 60_000);
    const invariants = async () => readJson<InvariantReport>(await fetch(`${running.baseUrl}/admin/invariants`, { headers: ADMIN }));
    expect((await invariants()).ok).toBe(true);

    // One line's balance off by one, as a change applied out of order or twice would leave it.
    const sql = new Client({ connectionString: running.database.url });
    await sql.connect();
    const line = `(SELECT account, currency, entry_seq FROM ledger.statement_lines ORDER BY entry_seq DESC OFFSET 3 LIMIT 1)`;
    let broken: InvariantReport;
    try {
      await sql.query(`UPDATE ledger.statement_lines SET balance_after = balance_after + 1 WHERE (account, currency, entry_seq) = ${line}`);
      broken = await invariants();
    } finally {
      await sql.query(`UPDATE ledger.statement_lines SET balance_after = balance_after - 1 WHERE (account, currency, entry_seq) = ${line}`);
      await sql.end();
    }
    expect(broken.ok).toBe(false);
    expect(broken.results.filter((result) => !result.ok)).toEqual([
      { name: 'every running statement follows its balance line by line', ok: false, detail: expect.stringMatching(/^1 of \d+ wrong, e\.g\. [A-Z]{3} \S+: .*balance_after -?\d+/) },
    ]);
    expect((await invariants()).ok).toBe(true);
  }, 90_000);

  it('answers an unknown account with an empty balance list and rejects bad analytics filters', async () => {
    expect(await (await fetch(`${running.baseUrl}/accounts/nobody/balances`)).json()).toEqual({ account: 'nobody', balances: [] });
    const bad = await fetch(`${running.baseUrl}/analytics/hourly?currency=EURO`);
    expect(bad.status).toBe(400);
    expect((await readError(bad)).message).toContain('currency');
    const hourly = await readJson<HourlyVolume>(await fetch(`${running.baseUrl}/analytics/hourly?currency=EUR&from=2026-01-01&to=2026-01-02`));
    expect(hourly.buckets.every((bucket) => bucket.currency === 'EUR' && /^\d+$/.test(bucket.volume))).toBe(true);
    expect(await (await fetch(`${running.baseUrl}/accounts/nobody/statements/EUR`)).json()).toEqual({ account: 'nobody', currency: 'EUR', lines: [], nextCursor: null });
    for (const [path, field] of [
      ['/accounts/acc-1/statements/eur', 'currency'],
      ['/accounts/acc-1/statements/EUR?limit=0', 'limit'],
      ['/accounts/acc-1/statements/EUR?cursor=x', 'cursor'],
      ['/accounts/not%20ok/statements/EUR', 'account'],
    ]) {
      const response = await fetch(`${running.baseUrl}${path}`);
      expect(response.status).toBe(400);
      expect((await readError(response)).message).toContain(field);
    }
  });

  it('keeps admin endpoints behind the bearer token', async () => {
    expect((await fetch(`${running.baseUrl}/admin/pipeline`)).status).toBe(401);
    expect((await fetch(`${running.baseUrl}/admin/pipeline`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${running.baseUrl}/admin/dead-letters`, { headers: ADMIN })).status).toBe(200);
  });

  it('answers malformed WebSocket commands with an error naming the field', async () => {
    const socket = new WebSocket(`${running.baseUrl.replace('http', 'ws')}/ws`);
    await new Promise((resolve) => socket.once('open', resolve));
    const reply = new Promise<{ type: string; message: string }>((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()))));
    socket.send(JSON.stringify({ action: 'subscribe', accounts: ['ok', 'not ok'] }));
    expect(await reply).toEqual({ type: 'error', message: expect.stringContaining('accounts[1]') });
    socket.close();
  });
});

import { eventually } from '@modulith/testing';
import { startApp, type RunningApp } from './testing/app.fixture';
import { ADMIN, ADMIN_TOKEN } from './testing/app-processes';
import { streamProblems } from './testing/balance-stream';
import { ledgerEntries, openBalanceReader, waitForPipelineDrain, type BalanceReader } from './testing/pipeline-probes';
import { makeTransfers, type TestTransfer } from './testing/transfer-load';

const TRANSFERS = Number(process.env['E2E_SNAPSHOT_TRANSFERS'] ?? 20_000);
// Few accounts, so every balance changes all the time while clients subscribe.
const ACCOUNTS = Array.from({ length: 6 }, (_, i) => `acc-${i}`);
const BATCH = 200;
const SUBSCRIBE_EVERY_MS = 100;

/** Posts `transfers` one batch at a time, so balances keep changing for a while. */
async function ingestSlowly(baseUrl: string, transfers: TestTransfer[]): Promise<void> {
  for (let next = 0; next < transfers.length; next += BATCH) {
    const response = await fetch(`${baseUrl}/transfers/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transfers: transfers.slice(next, next + BATCH) }),
    });
    if (response.status !== 201) throw new Error(`batch ingest failed: HTTP ${response.status} ${await response.text()}`);
  }
}

describe('WebSocket subscribe: current balances, then the changes after them (one process, real PostgreSQL)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ ADMIN_TOKEN });
  });

  afterAll(() => running?.close());

  it(`while ${TRANSFERS} transfers stream in, every client that subscribes gets a snapshot and then every later change, no gap, no overlap`, async () => {
    const readers: BalanceReader[] = [];
    let ingesting = true;
    const ingestion = ingestSlowly(running.baseUrl, makeTransfers(TRANSFERS, ACCOUNTS.length, 'snapshot')).finally(() => (ingesting = false));
    // Clients keep arriving while balances change: each one's snapshot lands somewhere mid-stream.
    while (ingesting) {
      readers.push(await openBalanceReader(running.baseUrl, ACCOUNTS));
      await new Promise((resolve) => setTimeout(resolve, SUBSCRIBE_EVERY_MS));
    }
    await ingestion;
    await waitForPipelineDrain(running.baseUrl, 180_000);

    const entries = new Map(await Promise.all(ACCOUNTS.map(async (account) => [account, await ledgerEntries(running.baseUrl, account)] as const)));
    const total = [...entries.values()].reduce((sum, list) => sum + list.length, 0);
    expect(total).toBe(2 * TRANSFERS);
    const lastSeq = (reader: BalanceReader) => [...reader.balances.map((b) => b.entrySeq), ...reader.messages.map((m) => m.entrySeq)].reduce((max, seq) => (BigInt(seq) > BigInt(max) ? seq : max), '0');
    const newest = [...entries.values()].flat().reduce((max, entry) => (BigInt(entry.seq) > BigInt(max) ? entry.seq : max), '0');
    // Best effort is still complete here: nobody stalls, so every client gets the last change too.
    await eventually(() => readers.every((reader) => lastSeq(reader) === newest), { message: `every client to receive entry ${newest}`, timeoutMs: 60_000 });

    const problems = readers.flatMap((reader, index) => ACCOUNTS.flatMap((account) => streamProblems(reader, account, entries.get(account) ?? []).map((problem) => `client ${index}: ${problem}`)));
    expect(problems).toEqual([]);
    // Not vacuous: clients subscribed mid-stream, their snapshots taken between the first and last entry.
    const midStream = readers.filter((reader) => reader.balances.length > 0 && reader.messages.length > 0);
    expect(readers.length).toBeGreaterThanOrEqual(5);
    expect(midStream.length).toBeGreaterThanOrEqual(3);
    readers.forEach((reader) => reader.socket.close());

    const report = (await (await fetch(`${running.baseUrl}/admin/invariants`, { headers: ADMIN })).json()) as { ok: boolean };
    expect(report.ok).toBe(true);
  }, 300_000);
});

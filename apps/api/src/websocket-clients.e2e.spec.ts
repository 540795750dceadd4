import WebSocket from 'ws';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { assertBundle, startApi, type AppProcess } from './testing/app-processes';
import { streamProblems } from './testing/balance-stream';
import { ledgerEntries, type BalanceMessage } from './testing/pipeline-probes';

const WAIT_MS = Number(process.env['E2E_DRAIN_TIMEOUT_MS'] ?? 120_000);
// Longest account ids (128 characters), so that answering a one-account subscribe with the
// whole followed list costs ~130 KB: the attack's amplification.
const ACCOUNTS = Array.from({ length: 1000 }, (_, i) => `acc-${i}-`.padEnd(128, 'x'));
const TINY_COMMANDS = 3000;
// Holding every answer costs TINY_COMMANDS x ~130 KB (~390 MB); bounded it costs a few MB.
const MAX_GROWTH_BYTES = 100 * 1024 * 1024;

async function residentBytes(app: AppProcess): Promise<number> {
  const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
  const match = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(metrics);
  if (!match) throw new Error('no process_resident_memory_bytes on /metrics');
  return Number(match[1]);
}

interface Frame {
  type: string;
  account?: string;
  accounts?: string[];
  entrySeq?: string;
  balances?: { account: string; currency: string; balance: string; entrySeq: string }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WebSocket clients that misbehave (app process, real PostgreSQL)', () => {
  let database: TestDatabase;
  let app: AppProcess;

  beforeAll(async () => {
    assertBundle();
    database = await createTestDatabase('wsclients');
    // The smallest socket buffer, so a client that stops reading soon has frames waiting in our queue.
    app = await startApi('app', { DATABASE_URL: database.url, NOTIFY_MAX_BUFFERED_BYTES: '1024' });
  });

  afterAll(async () => {
    await app?.stop();
    await database?.drop();
  });

  async function openSocket(): Promise<{ socket: WebSocket; frames: Frame[] }> {
    const socket = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/ws`);
    const frames: Frame[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return { socket, frames };
  }

  async function sendPaced(socket: WebSocket, frame: object, count: number): Promise<void> {
    for (let sent = 0; sent < count; sent += 8) {
      for (let i = 0; i < 8; i++) socket.send(JSON.stringify(frame));
      await sleep(5);
    }
  }

  it('a client that stopped reading and reads again gets its waiting changes at once, before the answers to its later commands; a resubscribe then gets no change older than its snapshot', async () => {
    const alice = 'ws-alice';
    const { socket, frames } = await openSocket();
    const answers = () => frames.filter((frame) => frame.type !== 'balance-changed').length;
    socket.send(JSON.stringify({ action: 'subscribe', accounts: [alice] }));
    for (let next = 0; next < ACCOUNTS.length; next += 400) socket.send(JSON.stringify({ action: 'subscribe', accounts: ACCOUNTS.slice(next, next + 400) }));
    await eventually(() => answers() === 4, { message: 'the four subscribes answered', timeoutMs: WAIT_MS });

    // The client stops reading; big answers fill the socket, so alice's changes wait in our queue.
    socket.pause();
    await sendPaced(socket, { action: 'subscribe', accounts: [alice] }, 200);
    const transfers = Array.from({ length: 50 }, (_, i) => ({ id: `ws-t-${i}`, from: 'ws-bob', to: alice, amount: '1', currency: 'EUR', occurredAt: new Date().toISOString() }));
    const posted = await fetch(`${app.baseUrl}/transfers/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transfers }) });
    expect(posted.status).toBe(201);
    await eventually(async () => /^modulith_notifications_queued_messages 50$/m.test(await (await fetch(`${app.baseUrl}/metrics`)).text()), { message: 'alice\'s 50 changes queued', timeoutMs: WAIT_MS });

    // It reads again: every answer, and alice's changes, with no further change needed to send them.
    socket.resume();
    await eventually(() => answers() === 204 && frames.filter((frame) => frame.account === alice).length === 50, { message: 'the 200 answers and alice\'s 50 changes', timeoutMs: WAIT_MS });

    socket.send(JSON.stringify({ action: 'unsubscribe', accounts: [alice] }));
    await eventually(() => answers() === 205, { message: 'the unsubscribe answered', timeoutMs: WAIT_MS });
    socket.send(JSON.stringify({ action: 'subscribe', accounts: [alice] }));
    await eventually(() => answers() === 206, { message: 'the resubscribe answered', timeoutMs: WAIT_MS });
    const later = { id: 'ws-t-later', from: 'ws-bob', to: alice, amount: '1', currency: 'EUR', occurredAt: new Date().toISOString() };
    expect((await fetch(`${app.baseUrl}/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(later) })).status).toBe(201);
    const resubscribed = frames.findLastIndex((frame) => frame.type === 'subscribed');
    let entries: Awaited<ReturnType<typeof ledgerEntries>> = [];
    await eventually(async () => (entries = await ledgerEntries(app.baseUrl, alice)).length === 51, { message: 'the ledger to apply the later transfer', timeoutMs: WAIT_MS });
    const after = () => frames.slice(resubscribed + 1).filter((frame) => frame.type === 'balance-changed' && frame.account === alice) as BalanceMessage[];
    // Frames arrive in order: once the newest change is here, anything stale came before it.
    const newest = entries.at(-1)?.seq;
    await eventually(() => after().some((change) => change.entrySeq === newest), { message: `alice's change ${newest} after the resubscribe`, timeoutMs: WAIT_MS });
    expect(streamProblems({ socket, balances: frames[resubscribed].balances ?? [], messages: after() }, alice, entries)).toEqual([]);
    socket.close();
  });

  it('a client that sends commands but never reads the answers costs the server bounded memory', async () => {
    const socket = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/ws`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    let subscribed = 0;
    const followingAll = new Promise<void>((resolve) =>
      socket.on('message', (data) => {
        if (JSON.parse(data.toString()).type === 'subscribed' && ++subscribed === 3) resolve();
      }),
    );
    for (let next = 0; next < ACCOUNTS.length; next += 400) socket.send(JSON.stringify({ action: 'subscribe', accounts: ACCOUNTS.slice(next, next + 400) }));
    await followingAll;
    const before = await residentBytes(app);

    // From now on the client reads nothing, and sends one-account subscribes a few at a time
    // (a burst of more than NOTIFY_MAX_PENDING_COMMANDS would just be refused).
    socket.pause();
    const tiny = JSON.stringify({ action: 'subscribe', accounts: [ACCOUNTS[0]] });
    for (let sent = 0; sent < TINY_COMMANDS; sent += 8) {
      for (let i = 0; i < 8; i++) socket.send(tiny);
      await sleep(5);
    }
    // Until the server took what it will take (it may stop reading us), memory must stay bounded.
    const deadline = Date.now() + WAIT_MS;
    let last = -1;
    let steady = 0;
    let growth = 0;
    while (steady < 3 && Date.now() < deadline) {
      await sleep(500);
      growth = (await residentBytes(app)) - before;
      expect(growth).toBeLessThan(MAX_GROWTH_BYTES);
      steady = Math.abs(growth - last) < 1024 * 1024 ? steady + 1 : 0;
      last = growth;
    }
    expect(steady).toBe(3);

    // A client that reads again gets one answer per command: the full list, or (for commands that
    // arrived while NOTIFY_MAX_PENDING_COMMANDS waited) the refusal.
    const answers: { type: string; accounts?: string[]; message?: string }[] = [];
    const allAnswered = new Promise<void>((resolve) =>
      socket.on('message', (data) => {
        if (answers.push(JSON.parse(data.toString())) === TINY_COMMANDS) resolve();
      }),
    );
    socket.resume();
    await allAnswered;
    const unexpected = answers.filter((answer) => !(answer.type === 'subscribed' && answer.accounts?.length === ACCOUNTS.length) && !answer.message?.includes('commands wait'));
    expect(unexpected).toEqual([]);
    socket.close();
  });
});

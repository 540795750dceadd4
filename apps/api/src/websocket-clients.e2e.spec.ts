import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '@modulith/database/testing';
import { assertBundle, startAppProcess, type AppProcess } from './testing/app-processes';

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WebSocket clients that misbehave (app process, real PostgreSQL)', () => {
  let database: TestDatabase;
  let app: AppProcess;

  beforeAll(async () => {
    assertBundle();
    database = await createTestDatabase('wsclients');
    app = await startAppProcess('app', { DATABASE_URL: database.url });
  });

  afterAll(async () => {
    await app?.stop();
    await database?.drop();
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

import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from '@modulith/messaging/testing';
import { assertBundle, runVerify, startApi, type AppProcess } from './testing/app-processes';
import { streamProblems } from './testing/balance-stream';
import { ledgerEntries, openBalanceReader, waitForPipelineDrain, type BalanceReader } from './testing/pipeline-probes';
import { ingestOverHttp, makeTransfers } from './testing/transfer-load';

// One suite, two topologies: the same transfers over HTTP, the same drain, the same invariant check
// and the same WebSocket delivery (current balances, then every change after them, in order),
// first in one process (in-process transport), then split over Redis into four processes started
// from the same bundle with other MODULES, plus a fifth that only runs the invariant check. In the
// split, synchronous queries cross processes: the notifications replicas read the ledger's
// GetBalanceQuery, and the check, hosting no module, reads every module's totals over Redis.

const TRANSFERS = Number(process.env['E2E_TOPOLOGY_TRANSFERS'] ?? 20_000);
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const DRAIN_TIMEOUT_MS = Number(process.env['E2E_DRAIN_TIMEOUT_MS'] ?? 120_000);
const WATCHED = ['acc-7', 'acc-42'];
const ACCOUNTS = Array.from({ length: 40 }, (_, i) => `acc-${i}`);

interface Topology {
  name: string;
  /** Process name → env; the first one runs ingestion and ledger (and the relay). */
  processes(redisPrefix: string): Record<string, NodeJS.ProcessEnv>;
  /** Which processes serve /ws, /analytics and the ledger's HTTP API. */
  notifications: string[];
  analytics: string;
  /** Env of `main.js verify` (the invariant check's own process). */
  verify(redisPrefix: string): NodeJS.ProcessEnv;
}

const TOPOLOGIES: Topology[] = [
  {
    name: 'one process, in-process transport',
    processes: () => ({ all: { EVENT_TRANSPORT: 'inprocess' } }),
    notifications: ['all'],
    analytics: 'all',
    // It loads ingestion, ledger and analytics itself, read-only.
    verify: () => ({}),
  },
  {
    name: 'split over Redis: ingestion+ledger | analytics | notifications ×2 | the invariant check alone',
    processes: (prefix) => {
      const redis = { EVENT_TRANSPORT: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix };
      // Only the process hosting the producers relays: one relay loop keeps BalanceChanged in commit order.
      const consumerOnly = { ...redis, RELAY_ENABLED: 'false', DB_POOL_SIZE: '4' };
      return {
        core: { ...redis, MODULES: 'ingestion,ledger' },
        analytics: { ...consumerOnly, MODULES: 'analytics' },
        'notifications-1': { ...consumerOnly, MODULES: 'notifications', DB_POOL_SIZE: '3' },
        'notifications-2': { ...consumerOnly, MODULES: 'notifications', DB_POOL_SIZE: '3' },
      };
    },
    notifications: ['notifications-1', 'notifications-2'],
    analytics: 'analytics',
    // Hosts no module: its queries go over Redis to the processes above.
    verify: (prefix) => ({ VERIFY_QUERIES: 'remote', EVENT_TRANSPORT: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix }),
  },
];

interface Outcome {
  verify: string;
  balances: unknown[];
  hourly: unknown;
}

describe(`the reference app in two topologies (${TRANSFERS} transfers each, real PostgreSQL and Redis)`, () => {
  const outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    assertBundle();
    await requireRedis(REDIS_URL);
  });

  describe.each(TOPOLOGIES)('$name', (topology) => {
    let db: TestDatabase;
    let prefix: string;
    const running = new Map<string, AppProcess>();
    const url = (name: string): string => (running.get(name) as AppProcess).baseUrl;

    beforeAll(async () => {
      db = await createTestDatabase('topology');
      prefix = redisTestPrefix('topology');
      const envs = Object.entries(topology.processes(prefix));
      // The first process migrates alone; the others then start side by side.
      const [first, ...rest] = envs;
      running.set(first[0], await startApi(first[0], { DATABASE_URL: db.url, ...first[1] }));
      const others = await Promise.all(rest.map(([name, env]) => startApi(name, { DATABASE_URL: db.url, ...env })));
      others.forEach((app) => running.set(app.name, app));
    }, 120_000);

    afterAll(async () => {
      await Promise.all([...running.values()].map((app) => app.stop()));
      await deleteRedisKeys(REDIS_URL, prefix);
      await db?.drop();
    }, 60_000);

    it('ingests over HTTP, drains, passes `main.js verify` (from its own process), and streams every watched balance to every notifications instance: its balances, then every change after them', async () => {
      const core = url([...running.keys()][0]);
      const early: BalanceReader[] = await Promise.all(topology.notifications.map((name) => openBalanceReader(url(name), WATCHED)));

      // More readers subscribe while transfers stream in: their balances come mid-stream (over Redis in the split).
      const ingesting = ingestOverHttp(core, makeTransfers(TRANSFERS, 2000, 'topology'));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const late: BalanceReader[] = await Promise.all(topology.notifications.map((name) => openBalanceReader(url(name), WATCHED)));
      expect(await ingesting).toBe(TRANSFERS);
      await waitForPipelineDrain(core, 180_000);

      const verify = runVerify(db.url, 120_000, topology.verify(prefix));
      expect(verify.output).toContain('all invariants hold');
      expect(verify.status).toBe(0);

      const readers = [...early, ...late];
      for (const account of WATCHED) {
        const expected = await ledgerEntries(core, account);
        expect(expected.length).toBeGreaterThan(0);
        const last = expected.reduce((max, entry) => (BigInt(entry.seq) > BigInt(max) ? entry.seq : max), '0');
        const has = (reader: BalanceReader) => reader.messages.some((m) => m.entrySeq === last) || reader.balances.some((b) => b.entrySeq === last);
        await eventually(() => readers.every(has), { message: `${account}'s last change (entry ${last}) on every reader of every notifications instance`, timeoutMs: DRAIN_TIMEOUT_MS });
        // Per balance: the snapshot at one of its entries, then exactly the entries after it, in commit order.
        expect(readers.flatMap((reader, index) => streamProblems(reader, account, expected).map((problem) => `reader ${index}: ${problem}`))).toEqual([]);
      }
      readers.forEach((reader) => reader.socket.close());

      // entrySeq numbers entries in commit order, which differs between topologies; the balances do not.
      const withoutSeq = (body: { account: string; balances: { currency: string; balance: string }[] }) => ({
        account: body.account,
        balances: body.balances.map(({ currency, balance }) => ({ currency, balance })),
      });
      const balances = await Promise.all(ACCOUNTS.map(async (account) => withoutSeq((await (await fetch(`${core}/accounts/${account}/balances`)).json()) as Parameters<typeof withoutSeq>[0])));
      const hourly = await (await fetch(`${url(topology.analytics)}/analytics/hourly?from=2026-01-01&to=2026-01-05`)).json();
      outcomes.set(topology.name, { verify: verify.output.slice(verify.output.indexOf('ok  ')), balances, hourly });
    }, 300_000);
  });

  it('gives the same results in both topologies', () => {
    const [single, split] = TOPOLOGIES.map((topology) => outcomes.get(topology.name));
    expect(single).toBeDefined();
    expect(split).toEqual(single);
  });
});

import { Module } from '@nestjs/common';
import { CqrsModule, QueryBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { Database, DatabaseModule, defineModule } from '@modulith/database';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { TransferIngested } from '@modulith/ingestion/contracts';
import { GetLedgerTotalsQuery, GetStatementQuery, type StatementTotals } from '@modulith/ledger/contracts';
import { MessagingModule, Outbox } from '@modulith/messaging';
import { messagingTestConfig, waitForIdle } from '@modulith/messaging/testing';
import { LedgerModule } from '../ledger.module';
import { CreateStatementLines0003 } from '../migrations/0003-create-statement-lines.migration';

/** Stands in for ingestion: publishes TransferIngested through its own outbox. */
@Module({ imports: [MessagingModule.forModule(defineModule({ name: 'ingestion', schema: false }))] })
class FakeIngestionModule {}

const transfer = (transferId: string, from: string, to: string, amount: number, currency = 'EUR') =>
  new TransferIngested({ transferId, from, to, amount: String(amount), currency, occurredAt: '2026-01-01T00:00:00.000Z' });

/** Deterministic transfers among a few accounts, so each balance changes many times. */
function busyTransfers(count: number, prefix: string): TransferIngested[] {
  let state = 7;
  const next = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  return Array.from({ length: count }, (_, i) => {
    const from = next(5);
    return transfer(`${prefix}-${i}`, `acc-${from}`, `acc-${(from + 1 + next(4)) % 5}`, 1 + next(1000), i % 3 === 0 ? 'USD' : 'EUR');
  });
}

describe('running statements (ledger module alone with the messaging platform, real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let moduleRef: TestingModule;
  let database: Database;
  let queries: QueryBus;

  const sql = (text: string, parameters: unknown[] = []) => database.dataSource.query(text, parameters);
  const statements = async (): Promise<StatementTotals> => (await queries.execute(new GetLedgerTotalsQuery())).statements;
  const publish = (events: TransferIngested[]) => database.transaction((tx) => moduleRef.select(FakeIngestionModule).get(Outbox).append(tx, events));
  /** Runs `corrupt`, expects the check to find it, then restores the line(s) from a copy. */
  const expectBroken = async (corrupt: string, problem: RegExp) => {
    await database.transaction(async (tx) => {
      await tx.query('DROP TABLE IF EXISTS public.saved_lines');
      await tx.query('CREATE TABLE public.saved_lines AS SELECT * FROM ledger.statement_lines');
      await tx.query(corrupt);
    });
    const found = await statements();
    await database.transaction(async (tx) => {
      await tx.query('TRUNCATE ledger.statement_lines');
      await tx.query('INSERT INTO ledger.statement_lines SELECT * FROM public.saved_lines');
    });
    expect(found.broken).toBe(1);
    expect(found.problems.join('\n')).toMatch(problem);
    expect((await statements()).broken).toBe(0);
  };

  beforeAll(async () => {
    testDb = await createTestDatabase('ledger_statement');
    moduleRef = await Test.createTestingModule({
      imports: [CqrsModule.forRoot(), DatabaseModule.forRoot(databaseTestConfig(testDb.url)), MessagingModule.forRoot(messagingTestConfig()), FakeIngestionModule, LedgerModule],
    }).compile();
    await moduleRef.init();
    database = moduleRef.get(Database);
    queries = moduleRef.get(QueryBus);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await testDb?.drop();
  });

  it('given many concurrent transactions changing the same balances, then each statement follows its balance line by line', async () => {
    const transfers = busyTransfers(2000, 'busy');
    // 40 producers at once: the ledger applies them in many batches, each balance many times.
    await Promise.all(Array.from({ length: 40 }, (_, i) => publish(transfers.slice(i * 50, (i + 1) * 50))));
    await waitForIdle(moduleRef, { timeoutMs: 60_000 });

    const [{ entries }] = await sql('SELECT count(*)::int AS entries FROM ledger.entries');
    expect(entries).toBe(4000);
    expect(await statements()).toEqual({ statements: 10, lines: 4000, broken: 0, problems: [] });
    expect(await sql('SELECT subscriber, error FROM messaging.dead_letters')).toEqual([]);
  }, 90_000);

  it('reads a statement oldest line first, keyset paged, each line the previous plus its amount', async () => {
    const lines: { entrySeq: string; amount: string; balanceAfter: string }[] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.execute(new GetStatementQuery('acc-0', 'EUR', 100, cursor));
      expect(page).toMatchObject({ account: 'acc-0', currency: 'EUR' });
      lines.push(...page.lines);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const entries: { seq: string; amount: string }[] = await sql(
      "SELECT e.seq::text, e.amount::text FROM ledger.entries e WHERE e.account = 'acc-0' AND e.currency = 'EUR' ORDER BY e.seq",
    );
    expect(lines.map((line) => [line.entrySeq, line.amount])).toEqual(entries.map((entry) => [entry.seq, entry.amount]));
    let balance = 0n;
    for (const line of lines) expect(BigInt(line.balanceAfter)).toBe((balance += BigInt(line.amount)));
    const [{ balance: ledgerBalance }] = await sql("SELECT balance::text FROM ledger.balances WHERE account = 'acc-0' AND currency = 'EUR'");
    expect(lines.at(-1)?.balanceAfter).toBe(ledgerBalance);
  });

  it('given a line whose balance is off by one, then the check names that statement and line', async () => {
    await expectBroken(
      `UPDATE ledger.statement_lines SET balance_after = balance_after + 1
        WHERE (account, currency, entry_seq) = (SELECT account, currency, entry_seq FROM ledger.statement_lines
                                                 WHERE account = 'acc-1' AND currency = 'EUR' ORDER BY entry_seq OFFSET 10 LIMIT 1)`,
      /^EUR acc-1: line \d+: balance_after -?\d+, previous \+ amount -?\d+$/m,
    );
  });

  it('given two lines swapped (as if delivered out of order), then the check fails', async () => {
    // Lines 5 and 6 of acc-2/EUR trade places: each keeps its amount and balance, under the other's entry.
    await expectBroken(
      `WITH two AS (SELECT entry_seq FROM ledger.statement_lines WHERE account = 'acc-2' AND currency = 'EUR' ORDER BY entry_seq OFFSET 5 LIMIT 2),
            pair AS (SELECT min(entry_seq) AS a, max(entry_seq) AS b FROM two)
       UPDATE ledger.statement_lines s SET entry_seq = CASE WHEN s.entry_seq = pair.a THEN -pair.b ELSE -pair.a END
         FROM pair WHERE s.account = 'acc-2' AND s.currency = 'EUR' AND s.entry_seq IN (pair.a, pair.b);
       UPDATE ledger.statement_lines SET entry_seq = -entry_seq WHERE entry_seq < 0`,
      /^EUR acc-2: line \d+: (amount|balance_after)/m,
    );
  });

  it('given a missing line, or the last line not at the balance, then the check fails', async () => {
    await expectBroken(
      `DELETE FROM ledger.statement_lines WHERE (account, currency, entry_seq) =
         (SELECT account, currency, entry_seq FROM ledger.statement_lines WHERE account = 'acc-3' AND currency = 'USD' ORDER BY entry_seq OFFSET 3 LIMIT 1)`,
      /^USD acc-3: entry \d+ has no line$/m,
    );
    await expectBroken(
      `DELETE FROM ledger.statement_lines WHERE (account, currency, entry_seq) =
         (SELECT account, currency, entry_seq FROM ledger.statement_lines WHERE account = 'acc-4' AND currency = 'USD' ORDER BY entry_seq DESC LIMIT 1)`,
      /^USD acc-4: last balance_after -?\d+, balance -?\d+$/m,
    );
  });

  it('given a ledger that had entries before the statement table existed, then its migration copies them in and the subscriber goes on from there', async () => {
    const runner = database.dataSource.createQueryRunner();
    try {
      await runner.query('DROP TABLE ledger.statement_lines');
      await new CreateStatementLines0003().up(runner);
    } finally {
      await runner.release();
    }
    expect(await statements()).toEqual({ statements: 10, lines: 4000, broken: 0, problems: [] });

    await publish([transfer('after-1', 'acc-0', 'new-acc', 5), transfer('after-2', 'new-acc', 'acc-1', 2)]);
    await waitForIdle(moduleRef);
    expect(await statements()).toEqual({ statements: 11, lines: 4004, broken: 0, problems: [] });
    const page = await queries.execute(new GetStatementQuery('new-acc', 'EUR', 10));
    expect(page.lines.map((line) => [line.amount, line.balanceAfter])).toEqual([
      ['5', '5'],
      ['-2', '3'],
    ]);
  });
});

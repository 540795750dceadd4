import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { ConflictError } from '@modulith/core';
import { Database, DatabaseModule } from '@modulith/database';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { IngestTransfersCommand, type Transfer } from '@modulith/ingestion/contracts';
import { MessagingModule } from '@modulith/messaging';
import { IngestionModule } from '../ingestion.module';

const transfer = (id: string, amount = '100'): Transfer => ({
  id,
  from: 'acc-1',
  to: 'acc-2',
  amount,
  currency: 'EUR',
  occurredAt: '2026-01-31T12:00:00.000Z',
});

describe('IngestTransfersHandler (ingestion module alone, real PostgreSQL)', () => {
  let testDb: TestDatabase;
  let moduleRef: TestingModule;
  let commands: CommandBus;
  let database: Database;

  const count = async () => Number((await database.dataSource.query('SELECT count(*) FROM ingestion.transfers'))[0].count);

  beforeAll(async () => {
    testDb = await createTestDatabase('ingestion');
    moduleRef = await Test.createTestingModule({
      // The relay stays off: these tests look at what ingestion leaves in the outbox.
      imports: [CqrsModule.forRoot(), DatabaseModule.forRoot(databaseTestConfig(testDb.url)), MessagingModule.forRoot({ relayEnabled: false }), IngestionModule],
    }).compile();
    await moduleRef.init();
    commands = moduleRef.get(CommandBus);
    database = moduleRef.get(Database);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await testDb?.drop();
  });

  const outboxed = async () =>
    (await database.dataSource.query(`SELECT payload->>'transferId' AS id FROM messaging.outbox WHERE type = 'ingestion.transfer-ingested'`)).map(
      (row: { id: string }) => row.id,
    );

  beforeEach(() => database.dataSource.query('TRUNCATE ingestion.transfers, messaging.outbox'));

  it('publishes one TransferIngested per new transfer, in the same transaction, and none for a replay', async () => {
    await commands.execute(new IngestTransfersCommand([transfer('e-1'), transfer('e-2')]));
    await commands.execute(new IngestTransfersCommand([transfer('e-2'), transfer('e-3')]));
    expect((await outboxed()).sort()).toEqual(['e-1', 'e-2', 'e-3']);
    const [envelope] = await database.dataSource.query(`SELECT source, version FROM messaging.outbox LIMIT 1`);
    expect(envelope).toEqual({ source: 'ingestion', version: 1 });

    await expect(commands.execute(new IngestTransfersCommand([transfer('e-4'), transfer('e-1', '999')]))).rejects.toBeInstanceOf(ConflictError);
    expect(await outboxed()).not.toContain('e-4');
  });

  it('stores each id once when concurrent writers send overlapping batches', async () => {
    const batches = Array.from({ length: 8 }, (_, writer) =>
      Array.from({ length: 500 }, (_, i) => transfer(`t-${(writer * 250 + i) % 2000}`)),
    );
    const results = await Promise.all(batches.map((batch) => commands.execute(new IngestTransfersCommand(batch))));
    expect(results.reduce((sum, result) => sum + result.accepted, 0)).toBe(2000);
    expect(results.reduce((sum, result) => sum + result.accepted + result.replayed, 0)).toBe(4000);
    expect(await count()).toBe(2000);
  });

  it('lets exactly one of two concurrent writers win an id they send with different content', async () => {
    const outcomes = await Promise.allSettled([
      commands.execute(new IngestTransfersCommand([transfer('a-1'), transfer('race', '1')])),
      commands.execute(new IngestTransfersCommand([transfer('b-1'), transfer('race', '2')])),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(ConflictError);
    expect(await count()).toBe(2); // the loser's other transfer was rolled back with it
  });

  it('writes a batch with one statement, not one per row', async () => {
    const statements: string[] = [];
    const original = database.dataSource.createQueryRunner.bind(database.dataSource);
    const spy = jest.spyOn(database.dataSource, 'createQueryRunner').mockImplementation((...args) => {
      const runner = original(...args);
      const query = runner.query.bind(runner);
      runner.query = ((sql: string, ...rest: unknown[]) => {
        statements.push(sql);
        return (query as (...a: unknown[]) => Promise<unknown>)(sql, ...rest);
      }) as typeof runner.query;
      return runner;
    });
    try {
      await commands.execute(new IngestTransfersCommand(Array.from({ length: 1000 }, (_, i) => transfer(`s-${i}`))));
    } finally {
      spy.mockRestore();
    }
    expect(statements.filter((sql) => /INSERT INTO ingestion\.transfers/.test(sql))).toHaveLength(1);
    expect(await count()).toBe(1000);
  });
});

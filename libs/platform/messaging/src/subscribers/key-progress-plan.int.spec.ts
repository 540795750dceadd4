// The key-progress read before each keyed attempt (real PostgreSQL): one primary-key probe per
// key of the chunk, whatever the statistics and however many keys the subscriber has. As a plain
// `ordering_key = ANY ($2)` its generic plan scanned every key of the subscriber and compared
// each with every element of the array (9-28 ms for 200 keys among 1,400 in the keyed bench).
import type { INestApplicationContext } from '@nestjs/common';
import { Database } from '@modulith/database';
import { databaseTestConfig } from '@modulith/database/testing';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { messagingTestConfig } from '../messaging-test-config';
import { createFixtureApp } from '../test-support/fixture-app';
import { READ_PROGRESS } from './key-order';

interface PlanNode {
  'Node Type': string;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

describe('The key-progress read (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;

  beforeAll(async () => {
    db = await createTestDatabase('key_progress_plan');
    ({ app } = await createFixtureApp({ database: databaseTestConfig(db.url), messaging: messagingTestConfig({ relayEnabled: false }), consumers: [] }));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('probes the primary key once per key of the chunk, also in a generic plan', async () => {
    const runner = app.get(Database).dataSource.createQueryRunner();
    try {
      await runner.query(`INSERT INTO messaging.key_progress (subscriber, ordering_key, seq)
                          SELECT s, 'acc-' || k, 1 FROM generate_series(0, 1999) k, unnest(ARRAY['plan.reader', 'plan.other']) s`);
      // The plan a pooled connection's named statement settles on after five executions.
      await runner.query('SET plan_cache_mode = force_generic_plan');
      await runner.query(`PREPARE read_progress (text, text[]) AS ${READ_PROGRESS}`);
      const keys = Array.from({ length: 200 }, (_, index) => `acc-${index * 7}`);
      const execute = `EXECUTE read_progress ('plan.reader', '{${keys.join(',')}}')`;
      const [row] = await runner.query(`EXPLAIN (FORMAT JSON) ${execute}`);
      const plan = nodes((row['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan);

      expect(plan.filter((node) => node.Filter !== undefined)).toEqual([]);
      expect(plan.filter((node) => /Index/.test(node['Node Type']) && /ordering_key = k\.key/.test(node['Index Cond'] ?? ''))).toHaveLength(1);
      expect(await runner.query(execute)).toHaveLength(200);
    } finally {
      await runner.release();
    }
  });
});

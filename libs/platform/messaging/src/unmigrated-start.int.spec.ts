// A process that starts with migrations off on a database nobody migrated yet must say what is
// missing and how to fix it, whatever modules it hosts: also one with no durable subscriber (a
// producer-only or a call-only process), where no module inbox is there to notice it.
import { Module, type INestApplicationContext } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { ConfigurationError } from '@modulith/core';
import { DatabaseModule } from '@modulith/database';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { MessagingModule } from './messaging.module';
import { messagingTestConfig } from './testing';

@Module({})
class ProducerOnlyModule {}

describe('start-up with migrations off on an unmigrated database (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('unmigrated_start');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('refuses with a ConfigurationError naming messaging’s missing tables and the fix, and creates nothing', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        DatabaseModule.forRoot({ url: db.url, migrateOnStart: false }),
        CqrsModule.forRoot(),
        MessagingModule.forRoot(messagingTestConfig()),
        ProducerOnlyModule,
      ],
    }).compile();
    moduleRef.useLogger(false);
    let app: INestApplicationContext | undefined;
    const failure = await moduleRef.init().then(
      (started) => ((app = started), undefined),
      (error: unknown) => error,
    );
    // close() of a context whose init failed rethrows that failure; the pool is closed all the same.
    await (app ?? moduleRef).close().catch(() => undefined);
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as Error).message).toMatch(/"messaging"\.outbox does not exist: apply its migrations first \(MIGRATE_ON_START, or the migrate command\)/);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'messaging'`);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});

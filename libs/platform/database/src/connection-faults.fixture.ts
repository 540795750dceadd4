// The process the connection-fault test watches: the shared pool, built by `Database` exactly as
// the app builds it, holding connections in every state a terminated backend can find them in.
// Run with: node -r <messaging>/test-support/ts-register.cjs connection-faults.fixture.ts, over IPC.
// It installs no 'uncaughtException' handler: an unhandled 'error' event must end it, visibly.
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Pool, PoolClient } from 'pg';
import type { QueryRunner } from 'typeorm';
import { Database } from './database';
import { DatabaseModule } from './database.module';

export type FixtureCommand = 'hold' | 'query' | 'release' | 'stats';
export interface FixtureReply {
  ok: boolean;
  error?: string;
  stats?: { total: number; idle: number; waiting: number };
}

async function main(): Promise<void> {
  const url = process.env['FAULTS_DATABASE_URL'];
  if (!url) throw new Error('FAULTS_DATABASE_URL is required');
  @Module({ imports: [DatabaseModule.forRoot({ url, poolSize: 6, migrateOnStart: false, acquireTimeoutMs: 20_000 })] })
  class FixtureModule {}
  const app = await NestFactory.createApplicationContext(FixtureModule, { logger: ['error', 'warn'] });
  const database = app.get(Database);
  const pool = (database.dataSource.driver as unknown as { master: Pool }).master;
  const runners: QueryRunner[] = [];
  let raw: PoolClient | undefined;

  const run = async (command: FixtureCommand): Promise<FixtureReply> => {
    switch (command) {
      case 'hold': {
        // Three checked out: a query runner between two queries, one inside an open transaction,
        // and a client taken from the pool directly (no listener of TypeORM's on it), as a
        // library sharing the pool might; then the rest of the pool idle.
        const between = database.dataSource.createQueryRunner();
        await between.query('SELECT 1');
        const inTransaction = database.dataSource.createQueryRunner();
        await inTransaction.startTransaction();
        await inTransaction.query('SELECT 1');
        runners.push(between, inTransaction);
        raw = await pool.connect();
        await raw.query('SELECT 1');
        await Promise.all([1, 2, 3].map(() => database.dataSource.query('SELECT pg_sleep(0.05)')));
        return { ok: true };
      }
      case 'query':
        await database.dataSource.query('SELECT 1');
        return { ok: true };
      case 'release':
        for (const runner of runners.splice(0)) await runner.release();
        raw?.release(true);
        raw = undefined;
        return { ok: true };
      case 'stats':
        return { ok: true, stats: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } };
    }
  };

  process.on('message', (command: FixtureCommand) => {
    run(command).then(
      (reply) => process.send?.(reply),
      (error: Error) => process.send?.({ ok: false, error: error.message }),
    );
  });
  process.on('disconnect', () => void app.close().finally(() => process.exit(0)));
  process.send?.({ ok: true });
}

void main().catch((error) => {
  console.error(error);
  process.exit(2);
});

import type { QueryRunner } from 'typeorm';

/**
 * Gives a query runner's connection back to the pool, or, with `broken`, has the pool destroy it
 * instead (pg-pool's `release(err)`): a connection whose transaction could not be rolled back,
 * or whose handler was abandoned mid-statement, must never serve the next transaction.
 * TypeORM's PostgresQueryRunner takes the error in `releasePostgresConnection`; its typings keep
 * that private, hence the narrow cast.
 */
export async function releaseRunner(runner: QueryRunner, broken?: Error): Promise<void> {
  const postgres = runner as unknown as { releasePostgresConnection?: (error?: Error) => Promise<void> };
  if (broken && typeof postgres.releasePostgresConnection === 'function') await postgres.releasePostgresConnection(broken);
  else await runner.release();
}

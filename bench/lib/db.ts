/** Fresh databases on the bench server, created per scenario and dropped after it. */
import { createTestDatabase, type TestDatabase } from '@modulith/testing';

/** The server: BENCH_PG_URL, else TEST_DATABASE_URL, else the local PostgreSQL. */
export const SERVER_URL = process.env['BENCH_PG_URL'] ?? process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export type BenchDatabase = TestDatabase;

/** An empty database `modulith_bench_<label>_<hex>` on the bench server (the test kit's, on SERVER_URL). */
export function createDatabase(label: string): Promise<BenchDatabase> {
  return createTestDatabase(`bench_${label}`, { serverUrl: SERVER_URL });
}

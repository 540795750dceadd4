/**
 * @modulith/database/testing — the database options of a test module. Never imported by
 * production code. Test databases themselves come from `createTestDatabase` in `@modulith/testing`.
 */
import type { DatabaseConfig } from './database.options';

/** Options for `DatabaseModule.forRoot` on the test database at `url`: a pool of 10, migrations on start. */
export function databaseTestConfig(url: string): DatabaseConfig {
  return { url, poolSize: 10, dataDir: '', embeddedPort: 0, migrateOnStart: true };
}

/**
 * @modulith/testing — what tests, tools and benchmarks share: a free port, one `eventually`, the
 * built app as a child process, a test database of a file's own, `sql` that resolves with rows, and
 * waiting for a drain.
 * Only test files, tools and benchmarks import it (eslint.config.mjs enforces that).
 */
export { freePort } from './free-port';
export { eventually } from './eventually';
export type { EventuallyOptions } from './eventually';
export { startAppProcess, waitForHealth } from './app-process';
export type { AppProcess, AppProcessOptions } from './app-process';
export { connectToTestServer, createTestDatabase, terminateBackends, TEST_SERVER_URL } from './test-database';
export type { TerminatedBackends, TestDatabase } from './test-database';
export { sqlOnClient, sqlOneShot } from './sql';
export type { Sql, SqlClient } from './sql';
export { waitForDrain } from './wait-for-drain';
export type { WaitForDrainOptions } from './wait-for-drain';

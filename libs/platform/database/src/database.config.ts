import * as path from 'node:path';
import { envInt, envString } from '@modulith/core';

/** How the app reaches PostgreSQL. Read once from the environment at start-up. */
export interface DatabaseConfig {
  /** An external server; when absent an embedded PostgreSQL is started under `dataDir`. */
  url?: string;
  /** Connections in the one pool every module shares. */
  poolSize: number;
  /** Where the embedded server keeps its files (git-ignored). */
  dataDir: string;
  /** Port of the embedded server, on 127.0.0.1 only. */
  embeddedPort: number;
  /** Apply pending migrations of every loaded module during start-up. */
  migrateOnStart: boolean;
}

export function databaseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  return {
    url: envString(env, 'DATABASE_URL'),
    poolSize: envInt(env, 'DB_POOL_SIZE', 10, 1, 1000),
    dataDir: path.resolve(envString(env, 'DATA_DIR', '.data'), 'postgres'),
    embeddedPort: envInt(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535),
    migrateOnStart: envString(env, 'MIGRATE_ON_START', 'true') !== 'false',
  };
}

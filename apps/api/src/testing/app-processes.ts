import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { startAppProcess, type AppProcess } from '@modulith/testing';

export type { AppProcess } from '@modulith/testing';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
/** The built bundle, as `npm start` runs it (the api e2e target depends on the build). */
export const MAIN = process.env['E2E_API_MAIN'] ?? path.join(REPO_ROOT, 'dist/apps/api/main.js');
export const ADMIN_TOKEN = 'e2e-admin-token';
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const BUILD = 'npx nx run api:build';

export function assertBundle(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "${BUILD}" first`);
}

/**
 * Starts the built api (`main.js serve`, or `args`) with JSON logs at `warn`, the e2e admin token
 * and `env` on top, and waits until it answers /health (unless `waitForHealth` is false).
 */
export function startApi(name: string, env: NodeJS.ProcessEnv, options: { args?: string[]; waitForHealth?: boolean } = {}): Promise<AppProcess> {
  return startAppProcess({
    main: MAIN,
    buildHint: BUILD,
    name,
    args: options.args,
    waitForHealth: options.waitForHealth,
    env: { LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ADMIN_TOKEN, ...env },
  });
}

/**
 * `main.js verify` against the database (read-only): its exit code and report. By default it
 * loads the modules it reads, on the in-process transport; `env` overrides that (e.g.
 * `VERIFY_QUERIES=remote` with Redis: a process that hosts none of them).
 */
export function runVerify(databaseUrl: string, timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [MAIN, 'verify'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      EVENT_TRANSPORT: 'inprocess',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'warn',
      VERIFY_TIMEOUT_MS: String(Math.floor(timeoutMs / 2)),
      DB_POOL_SIZE: '4',
      ...env,
    },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

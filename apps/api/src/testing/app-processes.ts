import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

/** The built bundle, as `npm start` runs it (the api test target depends on the build). */
export const MAIN = process.env['E2E_API_MAIN'] ?? path.resolve(__dirname, '../../../../dist/apps/api/main.js');
export const ADMIN_TOKEN = 'e2e-admin-token';
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** One app process started from the bundle, with its own env (MODULES, EVENT_TRANSPORT, ...). */
export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly baseUrl: string;
  /** Everything it printed so far (JSON log lines). */
  output(): string;
  readonly exited: Promise<number | null>;
  /** SIGTERM and wait (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
}

export function assertBundle(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npx nx run api:build" first`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `main.js serve` and waits until it answers /health. */
export async function startAppProcess(name: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<AppProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ADMIN_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const app: AppProcess = {
    name,
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    async stop(stopTimeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} during start-up:\n${output.slice(-4000)}`);
    try {
      if ((await fetch(`${app.baseUrl}/health`)).ok) return app;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer /health within ${timeoutMs} ms:\n${output.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

/** The built bundle, exactly as `npm start` runs it (the api test target depends on the build). */
export const MAIN = path.resolve(__dirname, '../../../../dist/apps/api/main.js');
export const REPO_ROOT = path.resolve(__dirname, '../../../..');

export function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npx nx run api:build" first`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, condition: () => Promise<T | undefined | false>, timeoutMs: number, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** The built app running as a child process, its output captured. */
export interface AppProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function startAppProcess(env: NodeJS.ProcessEnv, options: { waitForHealth?: boolean; args?: string[] } = {}): Promise<AppProcess> {
  assertBuilt();
  const port = env['PORT'] ? Number(env['PORT']) : await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(process.execPath, [MAIN, ...(options.args ?? [])], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'log', HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const app: AppProcess = {
    child,
    baseUrl,
    output: () => output,
    exited,
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  if (options.waitForHealth !== false) {
    let gone = false;
    void exited.then(() => (gone = true));
    await eventually(
      `${baseUrl}/health`,
      async () => {
        if (gone) throw new Error(`the app exited during start-up:\n${output.slice(-2000)}`);
        return (await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2000) })).ok;
      },
      60_000,
    ).catch((error) => {
      child.kill('SIGKILL');
      throw gone ? new Error(`the app exited during start-up:\n${output.slice(-2000)}`) : error;
    });
  }
  return app;
}

/** `main.js verify`: waits for the pipeline to drain, then checks the invariants; exit 0 when they hold. */
export function verifyInvariants(env: NodeJS.ProcessEnv, timeoutMs = 120_000): { ok: boolean; output: string } {
  const result = spawnSync(process.execPath, [MAIN, 'verify'], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'warn', VERIFY_TIMEOUT_MS: String(timeoutMs), ...env },
    encoding: 'utf8',
    timeout: timeoutMs + 60_000,
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

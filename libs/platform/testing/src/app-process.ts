import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { eventually } from './eventually';
import { freePort } from './free-port';
import { defaultStartTimeoutMs } from './wait-bounds';

/** How {@link startAppProcess} runs a built app. */
export interface AppProcessOptions {
  /** The built entry file `node` runs (e.g. `dist/apps/api/main.js`); a missing file fails naming it. */
  main: string;
  /** Arguments after `main` (a command such as `migrate`); none serves. */
  args?: string[];
  /** Over `process.env`; `HOST` defaults to 127.0.0.1 and `PORT` to a free port. */
  env?: NodeJS.ProcessEnv;
  /** Names the process in errors; default "the app". */
  name?: string;
  /** Resolve only once `GET /health` answers 200 (default true). */
  waitForHealth?: boolean;
  /** Bound of that wait in ms; default `E2E_START_TIMEOUT_MS` (60 s). */
  startTimeoutMs?: number;
  /** Working directory; default this process's. */
  cwd?: string;
  /** Also append the output to this file (for long runs whose output is read afterwards). */
  logFile?: string;
  /** Say how to build `main` when it is missing (e.g. `npx nx run api:build`). */
  buildHint?: string;
}

/** A built app running as a child process, its output captured. */
export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Its exit code and signal, once it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (default 30 s). */
  stop(graceMs?: number): Promise<void>;
}

/** How long, after the app exits, its output pipes get to drain (ms). */
const OUTPUT_DRAIN_MS = 2000;
/** How long, after that, the log file gets to have its last writes on disk (ms). */
const LOG_FLUSH_MS = 10_000;

/**
 * Starts `node <main> [...args]` and, unless `waitForHealth` is false, waits until it answers
 * `GET /health` with 200. Rejects, with the end of its output, when it exits during start-up or
 * does not answer within `startTimeoutMs` (then it is killed).
 */
export async function startAppProcess(options: AppProcessOptions): Promise<AppProcess> {
  if (!existsSync(options.main)) throw new Error(`${options.main} is missing${options.buildHint ? `: run "${options.buildHint}" first` : ''}`);
  const env = options.env ?? {};
  const port = env['PORT'] ? Number(env['PORT']) : await freePort();
  const name = options.name ?? 'the app';
  let output = '';
  let logEnded = false;
  const child = spawn(process.execPath, [options.main, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { ...process.env, HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = options.logFile ? openLog(options.logFile) : undefined;
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk) => {
      output += chunk;
      if (!logEnded) log?.write(chunk);
    });
  }
  // After 'exit', the output pipes may still hold the app's last lines (its shutdown messages):
  // wait for 'close' (pipes drained), but at most OUTPUT_DRAIN_MS, since a process the app left
  // behind may hold them open. Nothing is written to the log once it is ended, and `exited`
  // resolves once the log's writes are on disk (they queue on libuv's threads; a test reading
  // the file right after missed the last line on a loaded machine), at most LOG_FLUSH_MS later.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      const finish = () => {
        if (logEnded) return;
        logEnded = true;
        clearTimeout(timer);
        if (!log) return resolve({ code, signal });
        const flushed = setTimeout(() => resolve({ code, signal }), LOG_FLUSH_MS);
        const done = () => {
          clearTimeout(flushed);
          resolve({ code, signal });
        };
        log.once('error', done);
        log.end(done);
      };
      const timer = setTimeout(finish, OUTPUT_DRAIN_MS);
      child.once('close', finish);
    }),
  );
  const app: AppProcess = {
    name,
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  if (options.waitForHealth !== false) await waitForHealth(app, options.startTimeoutMs);
  return app;
}

/**
 * Waits until `app` answers `GET /health` with 200. Rejects, with the end of its output, when it
 * exits first or after `timeoutMs` (default `E2E_START_TIMEOUT_MS`, 60 s), and then kills it.
 */
export async function waitForHealth(app: AppProcess, timeoutMs = defaultStartTimeoutMs()): Promise<void> {
  const stopped = new AbortController();
  void app.exited.then((exit) =>
    stopped.abort(new Error(`${app.name} exited (${exit.code ?? exit.signal}) during start-up:\n${app.output().slice(-4000)}`)),
  );
  try {
    await eventually(async () => (await fetch(`${app.baseUrl}/health`, { signal: AbortSignal.timeout(2000) })).ok, {
      message: `${app.name} to answer ${app.baseUrl}/health`,
      timeoutMs,
      pollMs: 100,
      signal: stopped.signal,
      describe: () => `its output:\n${app.output().slice(-4000)}`,
    });
  } catch (error) {
    app.child.kill('SIGKILL');
    throw error;
  }
}

function openLog(file: string) {
  mkdirSync(dirname(file), { recursive: true });
  return createWriteStream(file, { flags: 'a' });
}

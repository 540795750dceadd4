/**
 * Messages between the runner (bench/run.mjs) and the processes it starts. Children report
 * progress and results through Node's IPC channel; without one (run by hand) they print.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export interface ProgressMessage {
  kind: 'progress';
  label: string;
  done: number;
  total: number;
}
export interface LogMessage {
  kind: 'log';
  line: string;
}

/** Reports how far the current scenario is (drawn as a bar by the runner). */
export function progress(label: string, done: number, total: number): void {
  send({ kind: 'progress', label, done, total });
}

/** A line for the runner's log (shown above the bar, and in the scenario's log file). */
export function note(line: string): void {
  send({ kind: 'log', line });
}

function send(message: ProgressMessage | LogMessage): void {
  if (process.send) process.send(message);
  else if (message.kind === 'log') console.log(message.line);
  else if (message.done === message.total) console.log(`${message.label}: done`);
}

const REGISTER = path.join(__dirname, 'register.cjs');

/** Absolute wall-clock milliseconds with sub-millisecond resolution, comparable across processes on this machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A TypeScript worker process (SWC on load) driven by request/response messages: `call(op,
 * args)` resolves with its answer. Progress and log messages from it are passed up.
 */
export class Worker {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private exited?: Error;

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.on('message', (message: { id?: number; ok?: boolean; value?: unknown; error?: string; kind?: string }) => {
      if (message.kind === 'progress' || message.kind === 'log') {
        if (globalThis.process.send) globalThis.process.send(message);
        else if (message.kind === 'log') console.log((message as LogMessage).line);
        return;
      }
      const pending = message.id === undefined ? undefined : this.waiting.get(message.id);
      if (!pending) return;
      this.waiting.delete(message.id as number);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(`${name}: ${message.error}`));
    });
    process.on('exit', (code, signal) => {
      this.exited = new Error(`${name} exited (${signal ?? code}) with ${this.waiting.size} request(s) unanswered`);
      for (const pending of this.waiting.values()) pending.reject(this.exited);
      this.waiting.clear();
    });
  }

  /** Starts `file` (a .ts module that calls `serve`) with `env` added to this process's environment. */
  static start(name: string, file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, execArgv: string[] = []): Worker {
    const child = fork(file, args, {
      execArgv: [...execArgv, '-r', REGISTER],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Worker(name, child);
  }

  call<T>(op: string, args: unknown = {}): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.process.send({ id, op, args });
    });
  }

  /** Asks the worker to close (op `close`), then waits for it to exit; kills it after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited || this.process.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    await this.call('close').catch(() => undefined);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** The worker side: answers the parent's requests with `handlers[op](args)`; `close` then exits. */
export function serve(handlers: Record<string, (args: never) => unknown>): void {
  process.on('message', async (message: { id: number; op: string; args: never }) => {
    const reply = (body: object): void => void process.send?.({ id: message.id, ...body });
    try {
      const handler = handlers[message.op] ?? (message.op === 'close' ? () => undefined : undefined);
      if (!handler) throw new Error(`unknown operation ${message.op}`);
      reply({ ok: true, value: await handler(message.args) });
      if (message.op === 'close') setImmediate(() => process.exit(0));
    } catch (error) {
      reply({ ok: false, error: (error as Error).stack ?? String(error) });
      if (message.op === 'close') setImmediate(() => process.exit(1));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

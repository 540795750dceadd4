import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '@modulith/testing';

/** A `redis-server` of a test's own, for fault tests: stop it, start it again, lose its data. */
export interface RedisTestServer {
  readonly url: string;
  readonly port: number;
  /** True while the server process runs. */
  readonly running: boolean;
  /** Stops the server (SIGTERM: with append-only persistence on, it syncs the AOF first). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data folder. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, until `resume`. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
  /** Stops it for good and deletes its data folder. */
  destroy(): Promise<void>;
}

export interface RedisTestServerOptions {
  /** `--appendonly yes` (with `appendfsync everysec`) or a server that keeps nothing (default). */
  appendOnly?: boolean;
}

/** Starts `redis-server` on a free loopback port as a child process (needs redis-server on PATH). */
export async function startRedisTestServer(options: RedisTestServerOptions = {}): Promise<RedisTestServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'modulith-redis-'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--daemonize', 'no'];
  args.push('--appendonly', options.appendOnly ? 'yes' : 'no', '--appendfsync', 'everysec');
  const server: RedisTestServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) return;
      const started = spawn('redis-server', args, { stdio: 'ignore' });
      child = started;
      exited = new Promise((resolve) => started.once('exit', () => resolve()));
      started.once('exit', () => {
        if (child === started) child = undefined;
      });
      await waitForPort(port, 10_000);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      if (!child) return;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
      child = undefined;
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/**
 * A TCP relay in front of a Redis, to drop connections silently: `blackHole` keeps every
 * connection open through it but never forwards another byte either way (what a firewall or NAT
 * that lost its state, or a failover behind a virtual IP, does to a live flow), while new
 * connections pass as before.
 */
export interface SilentDropProxy {
  readonly url: string;
  blackHole(): void;
  close(): Promise<void>;
}

/** Starts a `SilentDropProxy` on a free loopback port in front of `127.0.0.1:targetPort`. */
export async function startSilentDropProxy(targetPort: number): Promise<SilentDropProxy> {
  const flows = new Set<{ client: Socket; upstream: Socket }>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const flow = { client, upstream };
    flows.add(flow);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      flows.delete(flow);
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    url: `redis://127.0.0.1:${port}`,
    blackHole() {
      for (const { client, upstream } of flows) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
      flows.clear();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A key prefix of its own per test, for tests sharing one Redis (keys are never flushed). */
export function redisTestPrefix(label: string): string {
  return `modulith-test:${label}:${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix` (streams, with their groups): cleanup, or a Redis that "lost" them. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    // While it loads its AOF, Redis answers -LOADING: not ready yet.
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** Fails with how to start Redis when none answers at `url`, instead of a test timing out. */
export async function requireRedis(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(
      `These tests need a real Redis at ${url} (${(error as Error).message}). Start the local one ` +
        '(Debian: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no) or set TEST_REDIS_URL.',
    );
  } finally {
    client.disconnect();
  }
}

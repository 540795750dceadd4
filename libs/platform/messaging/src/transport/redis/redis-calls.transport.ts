import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { CallHandler, CallTransport } from '../../calls/call-transport';
import type { CallReply, CallRequest } from '../../calls/call-wire';
import { describeFailure } from '../../retries/failure';
import { CallClient } from './call-client';
import { callKeys } from './call-keys';
import { ANNOUNCE_SCRIPT } from './call-scripts';
import { CallServer } from './call-server';
import { CallSlots } from './call-slots';
import { RedisClock } from './redis-clock';
import { closeRedis, openRedis, resetOnTimeout, whenReady } from './redis-connection';

export interface RedisCallsOptions {
  url: string;
  /** Same prefix as the event streams (`REDIS_KEY_PREFIX`). */
  keyPrefix: string;
  /** Bound of every Redis command (`REDIS_COMMAND_TIMEOUT_MS`); a blocking read waits its block time plus this. */
  commandTimeoutMs: number;
  /** Presence renewal, reclaim and caller checks period (`CALL_HEARTBEAT_MS`). */
  heartbeatMs: number;
  /** Presence lifetime without renewal (`CALL_HOST_TTL_MS`). */
  hostTtlMs: number;
  /** Request stream cap, about (`CALL_STREAM_MAXLEN`). */
  streamMaxLen: number;
  /** Calls executed at once in this process (`CALL_CONCURRENCY`). */
  concurrency: number;
  /** A call running this long past its deadline gives its slot up (`CALL_OVERRUN_GRACE_MS`). */
  overrunGraceMs: number;
  /** This process's name (replica and reply channel); default `<host>:<pid>:<random>`. */
  replica?: string;
}

/**
 * Remote commands and queries over Redis: requests on a stream per module (replicas of the
 * module compete in its consumer group), replies on a list per calling process, presence as a
 * sorted set per module renewed every heartbeat (see `call-keys.ts`). A process serving
 * modules announces itself only once their groups exist; when it stops it first moves to
 * draining (no new calls come to it, callers still wait for the ones it took), lets those
 * finish within the shutdown budget, then removes itself.
 */
export class RedisCallTransport implements CallTransport {
  readonly name = 'redis';
  readonly replica: string;
  private readonly logger = new Logger('Messaging:Calls');
  private served: { modules: readonly string[]; handler: CallHandler } = { modules: [], handler: () => Promise.reject(new Error('nothing served')) };
  private publisher?: Redis;
  private client?: CallClient;
  private servers: CallServer[] = [];
  private heartbeat?: NodeJS.Timeout;
  private announced = false;
  private beating?: Promise<void>;
  private mode: 'serve' | 'drain' = 'serve';
  private stopped?: Promise<void>;
  private readonly clock = new RedisClock();

  constructor(private readonly options: RedisCallsOptions) {
    this.replica = options.replica ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  serve(modules: readonly string[], handler: CallHandler): void {
    this.served = { modules, handler };
  }

  /** Connects, starts the reply loop and a server per served module; announces once their groups exist (waits up to the command timeout). */
  async start(): Promise<void> {
    if (this.publisher) return;
    this.stopped = undefined;
    this.mode = 'serve';
    const { url, commandTimeoutMs, keyPrefix, heartbeatMs, hostTtlMs, streamMaxLen, concurrency, overrunGraceMs } = this.options;
    const publisher = openRedis(url, 'publisher', `modulith-calls-${process.pid}`, this.logger, commandTimeoutMs);
    this.publisher = publisher;
    const replies = openRedis(url, 'consumer', `modulith-call-replies-${process.pid}`, this.logger, commandTimeoutMs);
    const clock = this.clock;
    this.client = new CallClient({ publisher, replies, keyPrefix, replica: this.replica, streamMaxLen, heartbeatMs, commandTimeoutMs, clock, logger: this.logger });
    const slots = new CallSlots(concurrency);
    this.servers = this.served.modules.map(
      (module) =>
        new CallServer({
          redis: openRedis(url, 'consumer', `modulith-calls-${module}-${process.pid}`, this.logger, commandTimeoutMs),
          publisher,
          keyPrefix,
          module,
          replica: this.replica,
          slots,
          handler: this.served.handler,
          overrunGraceMs,
          claimIdleMs: hostTtlMs,
          commandTimeoutMs,
          clock,
          logger: this.logger,
        }),
    );
    this.client.start();
    this.servers.forEach((server) => server.start());
    const ready = Promise.all([whenReady(publisher, commandTimeoutMs), ...this.servers.map((server) => server.ready.then(() => true))]);
    const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), commandTimeoutMs).unref());
    if (!(await Promise.race([ready.then((all) => all.every(Boolean)), timeout]))) {
      this.logger.error(`Redis did not answer within ${commandTimeoutMs} ms: remote calls fail until it does`);
    }
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    this.heartbeat.unref();
    this.beat();
    await this.beating;
  }

  send(request: Omit<CallRequest, 'replyTo'>): Promise<CallReply> {
    if (!this.client) return Promise.reject(new Error('the Redis call transport is not started'));
    return this.client.send({ ...request, replyTo: this.replica });
  }

  /**
   * Moves this replica to draining at once (callers send it nothing new, but still count it alive
   * for the calls it took), lets those calls finish within `budgetMs`, then removes its presence
   * and disconnects. Calling it again waits for the same stop.
   */
  stop(budgetMs: number): Promise<void> {
    this.stopped ??= this.shutdown(budgetMs);
    return this.stopped;
  }

  private async shutdown(budgetMs: number): Promise<void> {
    if (!this.publisher) return;
    this.mode = 'drain';
    await this.beating;
    await this.announce('drain').catch((error: Error) => this.logger.warn(`could not withdraw presence (${error.message}); it lapses by itself`));
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), budgetMs)));
    const drained = await Promise.race([Promise.all(this.servers.map((server) => server.stop())).then(() => 'done' as const), budget]);
    clearTimeout(timer);
    if (drained === 'timeout') this.logger.error(`calls in flight did not finish within ${budgetMs} ms (shutdownTimeoutMs): their callers get an error by their deadlines`);
    clearInterval(this.heartbeat);
    await this.beating;
    await this.announce('gone').catch(() => undefined);
    await this.client?.stop();
    await closeRedis(this.publisher);
    this.publisher = undefined;
    this.client = undefined;
    this.servers = [];
  }

  /** Calls executed, dropped expired, reclaimed (served here); queries re-sent (called from here). */
  stats(): { executed: number; expired: number; reclaimed: number; overran: number; resent: number } {
    const sum = (key: keyof CallServer['counts']): number => this.servers.reduce((total, server) => total + server.counts[key], 0);
    return { executed: sum('executed'), expired: sum('expired'), reclaimed: sum('reclaimed'), overran: sum('overran'), resent: this.client?.counts.resent ?? 0 };
  }

  /** Renews this replica's presence (once its groups exist) and, while it serves, takes over calls of lapsed replicas. */
  private beat(): void {
    // Announced only once every served module's group exists: a call sent then is taken.
    if (!this.publisher || this.beating || !this.servers.every((server) => server.isReady)) return;
    this.beating = this.renew().finally(() => (this.beating = undefined));
  }

  private async renew(): Promise<void> {
    const mode = this.mode;
    try {
      await this.announce(mode);
      if (mode !== 'serve' || this.servers.length === 0) return;
      if (!this.announced) this.logger.log(`announced as a replica of ${this.served.modules.join(', ')}`);
      this.announced = true;
      for (const server of this.servers) await server.claimLapsed();
    } catch (error) {
      // A process serving nothing only read Redis's time: its reply loop reports Redis away.
      if (this.servers.length > 0) this.logger.warn(`could not renew the presence of ${this.served.modules.join(', ')} (${describeFailure(error).message})`);
    }
  }

  /** Renews (or withdraws) this replica's presence, and takes Redis's time for the clock (a process serving nothing only reads it). */
  private async announce(mode: 'serve' | 'drain' | 'gone'): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) return;
    const sentAt = Date.now();
    if (this.servers.length === 0) {
      const [seconds, micros] = await resetOnTimeout(publisher, publisher.time());
      this.clock.observe(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), sentAt);
      return;
    }
    const { keyPrefix, hostTtlMs } = this.options;
    const keys = this.served.modules.flatMap((module) => [callKeys.hosts(keyPrefix, module), callKeys.draining(keyPrefix, module)]);
    const now = await resetOnTimeout(publisher, publisher.call('EVAL', ANNOUNCE_SCRIPT, keys.length, ...keys, this.replica, hostTtlMs, mode));
    this.clock.observe(Number(now), sentAt);
  }
}

import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { errorToWire } from '../../calls/call-errors';
import type { CallHandler } from '../../calls/call-transport';
import { decodeRequest, encodeCall, type CallReply, type CallRequest } from '../../calls/call-wire';
import { describeFailure } from '../../retries/failure';
import { CALL_FIELD, callKeys } from './call-keys';
import { CLAIM_LAPSED_SCRIPT, CREATE_CALL_GROUP_SCRIPT, FORGET_LAPSED_CONSUMERS_SCRIPT } from './call-scripts';
import type { CallSlots } from './call-slots';
import type { RedisClock } from './redis-clock';
import { bounded, resetOnTimeout, whenReady } from './redis-connection';
import { RedisLoop } from './redis-loop';
import { entriesOfReply, record, type RawStreamEntry } from './stream-entries';

export interface CallServerOptions {
  /** A connection of its own: the loop blocks on it. */
  redis: Redis;
  /** Shared commands connection (replies, acks, claims); has its own command timeout. */
  publisher: Redis;
  keyPrefix: string;
  module: string;
  /** This process's consumer name in the module's group (and its presence). */
  replica: string;
  slots: CallSlots;
  handler: CallHandler;
  /** A call still running this long past its deadline gives its slot up and is logged (`CALL_OVERRUN_GRACE_MS`). */
  overrunGraceMs: number;
  /** Calls held by lapsed replicas for this long are taken over (`CALL_HOST_TTL_MS`). */
  claimIdleMs: number;
  commandTimeoutMs: number;
  /** Redis's clock: a request's deadline is in its time, turned into this process's on arrival. */
  clock: RedisClock;
  logger: Logger;
}

const BLOCK_MS = 2000;
const MAX_READ = 100;
const CLAIM_COUNT = 100;
/** A reply waits this long for its caller, which has its own deadline; past it the list goes (the caller died). */
const REPLY_TTL_MS = 60_000;

/**
 * One module's server of remote calls in this process: a consumer (this replica) of the group
 * `<module>` on `<prefix>:calls:<module>`, so replicas compete. Reads only while a slot of
 * `CALL_CONCURRENCY` is free; each request whose deadline passed while it was queued is
 * acknowledged and dropped, never executed late; the others run through `handler`, and the
 * reply goes to the caller's list in one transaction with the entry's acknowledgement and
 * deletion. When a read or reply fails (Redis away), the loop re-reads its own pending entries
 * first (a command met twice is applied once: see `CallExecutor`).
 */
export class CallServer extends RedisLoop {
  private readonly inFlight = new Map<string, Promise<void>>();
  private ownPendingFirst = true;
  private groupReady = false;
  private readonly stream: string;
  private readonly hosts: string;
  private readonly draining: string;
  private markReady: () => void = () => undefined;
  /** Resolves once the module's group exists (before this replica announces itself). */
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));
  /** True once the module's group exists. */
  isReady = false;
  /**
   * Calls executed, dropped because their deadline passed while queued, taken over from lapsed
   * replicas, and abandoned (still running past deadline and grace, their slot given up).
   */
  readonly counts = { executed: 0, expired: 0, reclaimed: 0, overran: 0 };

  constructor(private readonly options: CallServerOptions) {
    super();
    this.stream = callKeys.requests(options.keyPrefix, options.module);
    this.hosts = callKeys.hosts(options.keyPrefix, options.module);
    this.draining = callKeys.draining(options.keyPrefix, options.module);
  }

  /**
   * Stops taking calls (a blocked read is abandoned) and answers the ones taken: those running,
   * and those Redis handed to the abandoned read (pending here, never seen). Resolves once done.
   */
  async stop(): Promise<void> {
    if (!(await this.end(() => this.options.redis.disconnect()))) return;
    try {
      const { publisher, module, replica } = this.options;
      const own = await resetOnTimeout(publisher, publisher.call('XREADGROUP', 'GROUP', module, replica, 'COUNT', MAX_READ, 'STREAMS', this.stream, '0'));
      await this.take(entriesOfReply(own));
    } catch (error) {
      this.options.logger.warn(`could not look for calls to ${this.options.module} taken while stopping (${describeFailure(error).message}); their callers see this replica lost`);
    }
    await Promise.all(this.inFlight.values());
  }

  /**
   * Takes over calls that lapsed replicas took and never answered, and forgets their consumers
   * once they hold none, so the group does not grow with every restart (called once per heartbeat).
   */
  async claimLapsed(): Promise<void> {
    if (!this.running) return;
    const { publisher, module, replica, claimIdleMs, logger } = this.options;
    const claimed = (await resetOnTimeout(
      publisher,
      publisher.call('EVAL', CLAIM_LAPSED_SCRIPT, 3, this.stream, this.hosts, this.draining, module, replica, claimIdleMs, CLAIM_COUNT),
    )) as RawStreamEntry[];
    // Idle longer than a blocked read lasts: a replica starting up is never taken for a lapsed one.
    const forgetIdleMs = Math.max(claimIdleMs, 2 * BLOCK_MS);
    await resetOnTimeout(publisher, publisher.call('EVAL', FORGET_LAPSED_CONSUMERS_SCRIPT, 3, this.stream, this.hosts, this.draining, module, replica, forgetIdleMs));
    if (claimed.length === 0) return;
    this.counts.reclaimed += claimed.length;
    logger.warn(`took over ${claimed.length} calls to ${module} that a stopped replica had taken and not answered`);
    await this.take(claimed);
  }

  protected override async warmUp(): Promise<void> {
    await whenReady(this.options.redis, this.options.commandTimeoutMs);
  }

  protected async step(): Promise<void> {
    const { redis, commandTimeoutMs, module, slots } = this.options;
    if (!this.groupReady) {
      await bounded(redis, redis.call('EVAL', CREATE_CALL_GROUP_SCRIPT, 1, this.stream, module), commandTimeoutMs, `creating the call group ${module}`);
      this.groupReady = this.isReady = true;
      this.markReady();
    }
    if (this.ownPendingFirst) {
      const own = await this.read('0', MAX_READ);
      this.ownPendingFirst = false;
      await this.take(own);
    }
    if (slots.free === 0) {
      // Every slot is busy: wait for one before taking more calls from the stream.
      await slots.acquire();
      slots.release();
    }
    await this.take(await this.read('>', Math.max(1, Math.min(MAX_READ, slots.free))));
  }

  protected failed(error: unknown, delayMs: number, report: boolean): void {
    const message = describeFailure(error).message;
    // A Redis that lost its data lost the group too: make it again.
    if (/NOGROUP/.test(message)) this.groupReady = false;
    this.ownPendingFirst = true;
    if (report) this.options.logger.warn(`could not read calls to ${this.options.module} (${message}); next try in ${delayMs} ms`);
  }

  protected override recovered(): void {
    this.options.logger.log(`calls to ${this.options.module} are served again`);
  }

  private async read(from: '>' | '0', count: number): Promise<RawStreamEntry[]> {
    const { redis, module, replica, commandTimeoutMs } = this.options;
    const block = from === '>' ? ['BLOCK', BLOCK_MS] : [];
    const reply = redis.call('XREADGROUP', 'GROUP', module, replica, 'COUNT', count, ...block, 'STREAMS', this.stream, from);
    return entriesOfReply(await bounded(redis, reply, (from === '>' ? BLOCK_MS : 0) + commandTimeoutMs, `XREADGROUP of calls to ${module}`));
  }

  /** Starts each entry not already running here, one slot each (waiting for a slot when all are busy). */
  private async take(entries: readonly RawStreamEntry[]): Promise<void> {
    for (const [id, fields] of entries) {
      if (this.inFlight.has(id)) continue;
      const { slots } = this.options;
      await slots.acquire();
      let abandoned = false;
      const abandon = (): boolean => (abandoned = slots.abandon());
      const work = this.handle(id, fields, abandon).finally(() => {
        this.inFlight.delete(id);
        if (abandoned) slots.abandonedEnded();
        else slots.release();
      });
      this.inFlight.set(id, work);
    }
  }

  private async handle(id: string, fields: string[] | null, abandon: () => boolean): Promise<void> {
    const { logger, module, handler, clock } = this.options;
    const received = fields ? decodeRequest(String(record(fields)[CALL_FIELD] ?? '')) : undefined;
    const request = received && { ...received, deadline: clock.fromRedis(received.deadline) };
    if (!request) {
      logger.warn(`dropped entry ${id} of ${this.stream}: not a call request`);
      await this.settle(id).catch(() => undefined);
      return;
    }
    if (request.deadline <= Date.now()) {
      this.counts.expired += 1;
      logger.warn(`dropped ${request.type} ${request.id}: its deadline passed while it was queued; not executed`);
      await this.settle(id).catch(() => undefined);
      return;
    }
    this.counts.executed += 1;
    const overrun = setTimeout(() => this.overran(request, abandon), Math.max(0, request.deadline - Date.now()) + this.options.overrunGraceMs);
    const reply = await handler(request)
      .catch((error: unknown): CallReply => ({ id: request.id, replica: this.options.replica, ok: false, error: errorToWire(error) }))
      .finally(() => clearTimeout(overrun));
    try {
      await this.settle(id, request, reply);
    } catch (error) {
      // Still pending under this live replica: the loop reads it again (a command is applied once).
      this.ownPendingFirst = true;
      logger.warn(`could not reply to ${request.type} ${request.id} of ${module} (${describeFailure(error).message}); it is served again`);
    }
  }

  /**
   * A handler still running past its call's deadline and grace: its caller has its typed error
   * already, so the slot goes to the next call rather than wedging this replica (see CallSlots).
   */
  private overran(request: CallRequest, abandon: () => boolean): void {
    const { logger, module, overrunGraceMs, slots } = this.options;
    this.counts.overran += 1;
    const late = `${request.type} ${request.id} of ${module} is still running ${overrunGraceMs} ms past its deadline (callOverrunGraceMs); its caller has given up`;
    if (abandon()) logger.error(`${late}: its slot goes to the next call (${slots.abandoned} of at most ${slots.size} abandoned)`);
    else logger.error(`${late}, and ${slots.size} abandoned calls are still running: it keeps its slot of callConcurrency`);
  }

  /** Acknowledges and deletes the entry, and pushes the reply (if any), in one transaction. */
  private async settle(id: string, request?: CallRequest, reply?: CallReply): Promise<void> {
    const { publisher, module, keyPrefix } = this.options;
    const transaction = publisher.multi();
    if (request && reply) {
      const replies = callKeys.replies(keyPrefix, request.replyTo);
      transaction.rpush(replies, encodeCall(reply)).pexpire(replies, REPLY_TTL_MS);
    }
    transaction.xack(this.stream, module, id).xdel(this.stream, id);
    const results = await resetOnTimeout(publisher, transaction.exec());
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('Redis did not run the reply transaction');
  }
}

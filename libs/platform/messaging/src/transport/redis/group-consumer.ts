import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Wakeup } from '../../relay/wakeup';
import { retryDelayMs } from '../../retries/backoff';
import { describeFailure } from '../../retries/failure';
import type { TransportSubscription } from '../transport';
import { decodeEntry, entriesOfReply, record, type RawStreamEntry } from './stream-entries';
import { bounded } from './redis-connection';
import { CLAIM_FROM_LAPSED_SCRIPT } from './consumer-presence';
import { AUDIT_GROUP_SCRIPT, CREATE_GROUP_SCRIPT } from './stream-scripts';

export interface GroupConsumerOptions {
  /** A connection of its own: the loop blocks on it. */
  redis: Redis;
  stream: string;
  /** The subscribing module: one consumer group per module and stream. */
  group: string;
  /** This process's name in the group; replicas of the module compete under different names. */
  consumer: string;
  /** The module's durable subscribers of this stream's event type (usually one). */
  subscriptions: readonly TransportSubscription[];
  claimIdleMs: number;
  /** The presence set of event consumers, and since when each has been live (see `consumer-presence.ts`). */
  presenceKey: string;
  presenceSinceKey: string;
  /** A consumer whose presence was not renewed this long is dead (`REDIS_CONSUMER_TTL_MS`). */
  consumerTtlMs: number;
  /** How often to look for entries held by consumers whose presence lapsed (`REDIS_CONSUMER_HEARTBEAT_MS`). */
  heartbeatMs: number;
  /** Bound of each call (`REDIS_COMMAND_TIMEOUT_MS`); a blocking read's is its BLOCK time plus this. */
  commandTimeoutMs: number;
  logger: Logger;
}

/** Consumers that hold nothing and have not been seen for this long are removed from the group. */
const FORGET_IDLE_CONSUMERS_MS = 3_600_000;
const MAX_RECLAIM_ROUNDS = 20;
/** Most entries one take-over from lapsed consumers moves (the script passes their ids as arguments). */
const MAX_TAKE_OVER = 1000;
const ACK_TIMEOUT_WHEN_STOPPING_MS = 2000;
/** Unread entries up to which the audit counts holes (XDEL) ahead of the group exactly. */
const AUDIT_SCAN_LIMIT = 10_000;

/**
 * One module's durable consumer of one stream in this process. Reads new entries for its group
 * (`XREADGROUP … >`), hands them to the module's subscribers and acknowledges them (`XACK`) only
 * once every `deliver` resolved, i.e. the handler's transaction with its inbox rows committed or
 * the event was parked for retry or dead-lettered. If a delivery fails (database away), nothing
 * is acknowledged and the loop re-reads its own pending entries before new ones (and at start:
 * a process with a stable consumer name first finishes what it held before a restart). Every
 * heartbeat it takes over at once the entries held by consumers whose presence lapsed (dead, or
 * stopped without finishing them; see `consumer-presence.ts`), and every `claimIdleMs / 2`
 * entries any other consumer left pending for `claimIdleMs` (`XAUTOCLAIM`: the fallback for
 * consumers that announce no presence). Every call is bounded (see
 * `bounded`): one that fails or times out (Redis paused, restarted, a connection dropped
 * silently) is retried after a backoff, own pending entries first, so entries a lost reply had
 * delivered are handled at once rather than after `claimIdleMs`.
 */
export class GroupConsumer {
  private running = false;
  private busy = false;
  private loop?: Promise<void>;
  private readonly stopping = new Wakeup();
  private readonly readCount: number;
  private readonly blockMs: number;
  private readonly reclaimEveryMs: number;
  private lastReclaimAt = 0;
  private lastTakeOverAt = 0;
  private readonly takeOverCount: number;
  private halt: (reason: Error) => void = () => undefined;
  // `stop` abandons a blocked read at once: every call races this, rejected by `stop`.
  private readonly halted = new Promise<never>((_resolve, reject) => (this.halt = reject));
  private markReady: () => void = () => undefined;
  /** Resolves once the group exists; Redis may be away at start-up, then later. */
  readonly ready: Promise<void> = new Promise<void>((resolve) => (this.markReady = resolve));
  /**
   * Entries taken over from other consumers; entries removed from Redis (trimmed, deleted)
   * before the group handled them; times the stream or the group itself vanished (Redis lost
   * its data, or someone deleted the key), with an unknown number of entries.
   */
  readonly counts = { reclaimed: 0, lost: 0, groupsLost: 0 };

  constructor(private readonly options: GroupConsumerOptions) {
    this.halted.catch(() => undefined);
    this.readCount = Math.max(100, ...options.subscriptions.map((subscription) => subscription.maxBatch));
    this.reclaimEveryMs = Math.max(100, Math.floor(options.claimIdleMs / 2));
    // Wakes at least every heartbeat while idle, to look for lapsed consumers' entries.
    this.blockMs = Math.min(5000, this.reclaimEveryMs, Math.max(100, options.heartbeatMs));
    this.takeOverCount = Math.min(MAX_TAKE_OVER, this.readCount);
  }

  get identity(): { stream: string; group: string } {
    return { stream: this.options.stream, group: this.options.group };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Lets a delivery in flight finish and be acknowledged; a blocked read is abandoned. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.signal();
    if (!this.busy) this.halt(new Error('consumer stopped'));
    await this.loop;
    this.options.redis.disconnect();
  }

  private command(...args: (string | number)[]): Promise<unknown> {
    const [name, ...rest] = args;
    return this.bound(this.options.redis.call(String(name), ...rest), String(name));
  }

  /** `blockMs`: the call blocks in Redis this long before it answers (XREADGROUP … BLOCK). */
  private bound<T>(call: Promise<T>, what: string, blockMs = 0): Promise<T> {
    const { redis, commandTimeoutMs, group } = this.options;
    return bounded(redis, Promise.race([call, this.halted]), blockMs + commandTimeoutMs, `${what} of consumer group ${group}`);
  }

  private async run(): Promise<void> {
    const { logger, stream, group } = this.options;
    let failures = 0;
    let groupReady = false;
    let everReady = false;
    let ownPendingFirst = true;
    while (this.running) {
      try {
        if (!groupReady) {
          await this.createGroup(everReady);
          groupReady = everReady = true;
          this.markReady();
        }
        if (Date.now() - this.lastTakeOverAt >= this.options.heartbeatMs) {
          this.lastTakeOverAt = Date.now();
          await this.takeOverLapsed();
        }
        if (Date.now() - this.lastReclaimAt >= this.reclaimEveryMs) {
          this.lastReclaimAt = Date.now();
          await this.reclaim();
        }
        const from = ownPendingFirst ? '0' : '>';
        const entries = await this.read(from);
        if (ownPendingFirst && entries.length === 0) ownPendingFirst = false;
        // `>` hands over entries never delivered to the group: first deliveries (see DeliveryHint).
        if (entries.length > 0) await this.handle(entries, from === '0');
        if (failures > 0) logger.log(`${group} consumes ${stream} again`);
        failures = 0;
      } catch (error) {
        if (!this.running) return;
        failures += 1;
        const message = describeFailure(error).message;
        // A Redis that lost its data lost the group too: make it again (from the stream's start).
        if (/NOGROUP/.test(message)) groupReady = false;
        ownPendingFirst = true;
        const delayMs = retryDelayMs(failures, { baseDelayMs: 100, maxDelayMs: 2000 });
        if (failures === 1 || failures % 50 === 0) {
          logger.warn(`${group} could not consume ${stream} (${message}); unacknowledged entries are read again, next try in ${delayMs} ms`);
        }
        await this.stopping.sleep(delayMs);
      }
    }
  }

  /**
   * From the stream's beginning: entries appended before this module ever started are its too
   * (those trimmed before it existed never were, and are not reported lost). `again`: this loop
   * had the group before, so Redis lost it, with every entry it had not handled yet.
   */
  private async createGroup(again: boolean): Promise<void> {
    const { stream, group, logger } = this.options;
    const [created, removedBefore] = (await this.command('EVAL', CREATE_GROUP_SCRIPT, 1, stream, group)) as [number, number];
    if (again && created === 1) {
      this.counts.groupsLost += 1;
      logger.error(
        `consumer group ${group} of ${stream} vanished from Redis (it lost its data, or the key or group was deleted): the entries it had ` +
          'not handled are lost and their number is unknown; the group is created again from the stream’s start. ' +
          're-drive them from the outbox retention (see the messaging README, "Durability contract")',
      );
    } else if (created === 1 && removedBefore > 0) {
      logger.warn(`consumer group ${group} of ${stream} created after ${removedBefore} entries had been trimmed from the stream: they are not delivered to it`);
    }
  }

  /**
   * `0`: this consumer's own pending entries. `>`: entries never delivered to the group, read
   * in one transaction with an audit that first settles entries removed behind the group's back
   * (which `>` would skip silently); only when none are there does it block for new ones, which
   * Redis hands over as they are appended (nothing can be removed in between).
   */
  private async read(from: '>' | '0'): Promise<RawStreamEntry[]> {
    const { stream, group, consumer } = this.options;
    const readArgs = ['GROUP', group, consumer, 'COUNT', this.readCount];
    if (from === '0') return entriesOfReply(await this.command('XREADGROUP', ...readArgs, 'STREAMS', stream, '0'));
    const transaction = this.options.redis.multi().call('EVAL', AUDIT_GROUP_SCRIPT, 1, stream, group, AUDIT_SCAN_LIMIT).call('XREADGROUP', ...readArgs, 'STREAMS', stream, '>');
    const replies = await this.bound(transaction.exec(), 'the read transaction');
    if (!replies) throw new Error('Redis did not run the read transaction');
    const [[auditError, audit], [readError, entries]] = replies as [[Error | null, [number, string]], [Error | null, unknown]];
    if (auditError) throw auditError;
    if (audit[0] > 0) this.lostEntries(audit[0], 'were trimmed or deleted from the stream');
    if (readError) throw readError;
    const found = entriesOfReply(entries);
    if (found.length > 0) return found;
    const blocking = this.options.redis.call('XREADGROUP', ...readArgs, 'BLOCK', this.blockMs, 'STREAMS', stream, '>');
    return entriesOfReply(await this.bound(blocking, 'XREADGROUP BLOCK', this.blockMs));
  }

  /** `redelivered`: the entries may have been handed over before (own pending, claimed): see `DeliveryHint`. */
  private async handle(raw: readonly RawStreamEntry[], redelivered = true): Promise<void> {
    const { stream, group, subscriptions, logger } = this.options;
    const entries = raw.map(decodeEntry);
    const envelopes = entries.flatMap((entry) => (entry.envelope ? [entry.envelope] : []));
    if (envelopes.length < entries.length) this.lostEntries(entries.length - envelopes.length, 'were trimmed or unreadable');
    this.busy = true;
    try {
      if (envelopes.length > 0) {
        const results = await Promise.allSettled(subscriptions.map((subscription) => subscription.deliver(envelopes, { redelivered })));
        const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failure) throw failure.reason;
      }
      await this.ack(entries.map((entry) => entry.id));
    } finally {
      this.busy = false;
    }
    if (!this.running) logger.debug(`${group} acknowledged its last ${entries.length} entries of ${stream}`);
  }

  private async ack(ids: string[]): Promise<void> {
    const { stream, group } = this.options;
    const acked = this.options.redis.call('XACK', stream, group, ...ids);
    if (this.running) {
      await bounded(this.options.redis, acked, this.options.commandTimeoutMs, `XACK of consumer group ${group}`);
      return;
    }
    // Shutting down while Redis is away: do not wait for it. Unacknowledged entries are taken
    // over by another consumer after REDIS_CLAIM_IDLE_MS; the inbox absorbs the repeat.
    const timer = new Promise<void>((resolve) => setTimeout(resolve, ACK_TIMEOUT_WHEN_STOPPING_MS).unref());
    await Promise.race([acked.catch(() => undefined), timer]);
  }

  private async reclaim(): Promise<void> {
    const { stream, group, consumer, claimIdleMs, logger } = this.options;
    let cursor = '0-0';
    for (let round = 0; round < MAX_RECLAIM_ROUNDS; round += 1) {
      const reply = (await this.command('XAUTOCLAIM', stream, group, consumer, claimIdleMs, cursor, 'COUNT', this.readCount)) as [
        string,
        RawStreamEntry[],
        string[] | undefined,
      ];
      const [next, entries, deleted] = reply;
      if (deleted && deleted.length > 0) this.lostEntries(deleted.length, 'were trimmed while pending');
      if (entries.length > 0) {
        this.counts.reclaimed += entries.length;
        logger.warn(`${group} reclaimed ${entries.length} entries of ${stream} left pending for ${claimIdleMs} ms or more by a stopped consumer`);
        await this.handle(entries);
      }
      cursor = next;
      if (cursor === '0-0') break;
    }
    await this.forgetIdleConsumers();
  }

  /** Handles the entries held by consumers of the group whose presence lapsed, taken over in batches. */
  private async takeOverLapsed(): Promise<void> {
    const { stream, group, consumer, presenceKey, presenceSinceKey, consumerTtlMs, logger } = this.options;
    for (let round = 0; round < MAX_RECLAIM_ROUNDS; round += 1) {
      const keys = [stream, presenceKey, presenceSinceKey];
      const [entries, missing] = (await this.command('EVAL', CLAIM_FROM_LAPSED_SCRIPT, keys.length, ...keys, group, consumer, this.takeOverCount, consumerTtlMs)) as [
        RawStreamEntry[],
        number,
      ];
      if (missing > 0) this.lostEntries(missing, 'were trimmed while pending');
      if (entries.length > 0) {
        this.counts.reclaimed += entries.length;
        logger.warn(`${group} reclaimed ${entries.length} entries of ${stream} from consumers whose presence lapsed (dead, or stopped before finishing them)`);
        await this.handle(entries);
      }
      if (entries.length + missing < this.takeOverCount) return;
    }
  }

  /** Consumers of earlier processes stay listed in the group; drop those that hold nothing. */
  private async forgetIdleConsumers(): Promise<void> {
    const { stream, group, consumer, claimIdleMs } = this.options;
    const threshold = Math.max(FORGET_IDLE_CONSUMERS_MS, 10 * claimIdleMs);
    const consumers = (await this.command('XINFO', 'CONSUMERS', stream, group)) as unknown[][];
    for (const fields of consumers) {
      const info = record(fields);
      if (info['name'] === consumer || Number(info['pending']) !== 0 || Number(info['idle']) < threshold) continue;
      await this.command('XGROUP', 'DELCONSUMER', stream, group, String(info['name']));
    }
  }

  private lostEntries(count: number, why: string): void {
    this.counts.lost += count;
    this.options.logger.error(
      `${count} entries of ${this.options.stream} ${why} before consumer group ${this.options.group} handled them: they are lost, ` +
        'not pending; re-drive them from the outbox retention (see the messaging README, "Durability contract")',
    );
  }
}

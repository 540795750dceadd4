import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { EventEnvelope } from '../../events/event-envelope';
import type { Transport, TransportSubscription } from '../transport';
import { BroadcastReader } from './broadcast-reader';
import { ANNOUNCE_CONSUMER_SCRIPT, presenceInstancesKey, presenceKey, presenceSinceKey } from './consumer-presence';
import { GroupConsumer } from './group-consumer';
import { closeRedis, openRedis, resetOnTimeout, whenReady } from './redis-connection';
import { pendingByGroup, streamBacklog } from './stream-backlog';
import { encodeEnvelope, ENVELOPE_FIELD, streamKey } from './stream-entries';
import { TRIM_SCRIPT } from './stream-scripts';

export interface RedisStreamsOptions {
  url: string;
  /** Every key is `<keyPrefix>:…`; apps (or tests) sharing a Redis use different prefixes. */
  keyPrefix: string;
  /**
   * Entries a stream keeps once every consumer group has handled them (about: whole nodes are
   * trimmed); 0 never trims. Never trims an entry some group has not acknowledged: a stream
   * held above it by a lagging group grows and is reported (`stats().streamsOverCap`, a warning).
   */
  streamMaxLen: number;
  /** Pending entries idle this long are taken over from their consumer, whatever its presence. */
  claimIdleMs: number;
  /** Presence renewal, and each group's look for lapsed consumers' entries, period (`REDIS_CONSUMER_HEARTBEAT_MS`; default 1000). */
  heartbeatMs?: number;
  /** A consumer's presence lapses this long after its last renewal (`REDIS_CONSUMER_TTL_MS`; default 10000, at least twice the heartbeat). */
  consumerTtlMs?: number;
  /**
   * A consumer name whose presence lapsed this long is forgotten (its entries, if any are left,
   * wait for `claimIdleMs`), and the presence keys expire this long plus the TTL after the last
   * presence recorded in them lapsed, so a deployment that stopped leaves none behind. Keep it
   * well above the TTL. Default: an hour, or 10 × `claimIdleMs` if longer.
   */
  consumerForgetMs?: number;
  /**
   * Longest wait for any one Redis call (a publish, a probe, a consumer's read or ack; a blocking
   * read waits its BLOCK time plus this), and for Redis at start-up. A call past it fails and
   * its connection is reset; the caller retries.
   */
  commandTimeoutMs: number;
  /** This process's consumer name in every group (`REDIS_CONSUMER_NAME`); default `<host>:<pid>:<random>`. */
  consumerName?: string;
}

/** What `RedisStreamsTransport.stats()` reports: totals of this process since it started. */
export interface RedisStreamsStats {
  /** Entries this process's consumers took over from stopped consumers. */
  reclaimed: number;
  /** Entries removed from Redis (trimmed, deleted) before a durable consumer group here handled them: lost, to be re-driven. */
  lost: number;
  /** Times a consumer group here found its stream or group gone (Redis lost its data): an unknown number of entries lost. */
  groupsLost: number;
  /** Times this publisher found a stream lost and made again (Redis lost its data): an unknown number of entries lost. */
  streamsLost: number;
  /** Entries trimmed before a best-effort broadcast reader here read them (allowed for best effort). */
  lostBestEffort: number;
  /**
   * Renewals of this process's consumer name that found another live process had renewed it
   * since (two processes given the same `REDIS_CONSUMER_NAME`): what either holds when it dies
   * waits for `claimIdleMs`, as the other keeps the name alive.
   */
  consumerNameClashes: number;
  /** Streams a lagging consumer group holds above `streamMaxLen`. */
  streamsOverCap: { stream: string; length: number; heldBy: string }[];
}

/** Entries above the cap a held stream may reach before it is reported (the trim works in whole nodes). */
const OVER_CAP_SLACK = 1000;
const OVER_CAP_WARN_EVERY_MS = 60_000;
/** Most entries one publish trims, so catching up after a long lag never blocks Redis for long. */
const MAX_TRIM_PER_PUBLISH = 100_000;
/** Names in the presence set lapsed this long (or 10 claim idles) are forgotten by default, as idle consumers are from groups. */
const FORGET_LAPSED_CONSUMERS_MS = 3_600_000;
const DEFAULT_HEARTBEAT_MS = 1000;
const DEFAULT_CONSUMER_TTL_MS = 10_000;
const CLASH_WARN_EVERY_MS = 60_000;

/**
 * Redis Streams behind the `Transport` interface. `publish` (called by the relay inside its
 * claim) appends each envelope to the stream of its type in one pipeline and
 * resolves only when Redis acknowledged every `XADD`, so the relay deletes outbox rows that are
 * in Redis, and keeps them (rolls back) when Redis is away. Subscribers hosted here are fed by
 * consumer loops: a durable subscriber through its module's consumer group (replicas compete,
 * modules each see every event, ack after `deliver`; a consumer's presence is renewed every
 * heartbeat, so a dead one's entries are taken over as soon as it lapses), a
 * best-effort one by broadcast (every instance reads everything). Handlers are the same classes
 * as with the in-process transport: both call the same `deliver` of the same subscribers.
 */
export class RedisStreamsTransport implements Transport {
  readonly name = 'redis-streams';
  readonly delivery = 'publish';
  readonly consumerName: string;
  private readonly logger = new Logger('Messaging:Redis');
  private readonly subscriptions: TransportSubscription[] = [];
  private publisher?: Redis;
  private groups: GroupConsumer[] = [];
  private readers: BroadcastReader[] = [];
  /** Streams a lagging group holds above `streamMaxLen`, with when each was last reported. */
  private readonly overCap = new Map<string, { length: number; group: string; warnedAt: number }>();
  /** Entries ever added to each stream, as of this process's last publish to it. */
  private readonly addedBefore = new Map<string, number>();
  private streamsLost = 0;
  private presenceTimer?: NodeJS.Timeout;
  private announcing?: Promise<void>;
  private presenceFailing = false;
  private readonly heartbeatMs: number;
  private readonly consumerTtlMs: number;
  private readonly consumerForgetMs: number;
  /** Tells this process's renewals of its consumer name from another live process's. */
  private readonly instance = randomBytes(8).toString('hex');
  private renewed = false;
  private consumerNameClashes = 0;
  private clashWarnedAt = 0;

  constructor(private readonly options: RedisStreamsOptions) {
    this.consumerName = options.consumerName ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.consumerTtlMs = Math.max(options.consumerTtlMs ?? DEFAULT_CONSUMER_TTL_MS, 2 * this.heartbeatMs);
    this.consumerForgetMs = options.consumerForgetMs ?? Math.max(FORGET_LAPSED_CONSUMERS_MS, 10 * options.claimIdleMs);
  }

  subscribe(subscription: TransportSubscription): void {
    this.subscriptions.push(subscription);
  }

  /**
   * Connects and starts a loop per (module, event type) and per broadcast event type. Waits for
   * Redis up to the command timeout; if it is away, starts anyway (the relay keeps events in the
   * outbox, loops wait) and everything proceeds once Redis is back.
   */
  async start(): Promise<void> {
    if (this.publisher) return;
    const { url, commandTimeoutMs, claimIdleMs, keyPrefix } = this.options;
    const heartbeatMs = this.heartbeatMs;
    this.publisher = openRedis(url, 'publisher', `modulith-publish-${process.pid}`, this.logger, commandTimeoutMs);
    for (const [key, subscriptions] of grouped(this.subscriptions.filter((s) => s.mode === 'durable'), (s, type) => `${s.group}\u0000${type}`)) {
      const [group, type] = key.split('\u0000');
      const redis = openRedis(url, 'consumer', `modulith-${group}-${process.pid}`, this.logger, commandTimeoutMs);
      const stream = streamKey(keyPrefix, type);
      this.groups.push(
        new GroupConsumer({
          redis,
          stream,
          group,
          consumer: this.consumerName,
          subscriptions,
          claimIdleMs,
          presenceKey: presenceKey(keyPrefix),
          presenceSinceKey: presenceSinceKey(keyPrefix),
          consumerTtlMs: this.consumerTtlMs,
          heartbeatMs,
          commandTimeoutMs,
          logger: this.logger,
        }),
      );
    }
    for (const [type, subscriptions] of grouped(this.subscriptions.filter((s) => s.mode === 'best-effort'), (_s, type) => type)) {
      const redis = openRedis(url, 'consumer', `modulith-broadcast-${process.pid}`, this.logger, commandTimeoutMs);
      this.readers.push(new BroadcastReader({ redis, stream: streamKey(keyPrefix, type), subscriptions, commandTimeoutMs, logger: this.logger }));
    }
    [...this.groups, ...this.readers].forEach((loop) => loop.start());
    if (this.groups.length > 0) {
      this.presenceTimer = setInterval(() => this.renewPresence(), heartbeatMs);
      this.presenceTimer.unref();
    }
    const announced = whenReady(this.publisher, commandTimeoutMs).then((up) => (up ? this.renewPresence() : undefined));
    const ready = Promise.all([
      whenReady(this.publisher, commandTimeoutMs),
      ...[...this.groups, ...this.readers].map((loop) => loop.ready.then(() => true)),
      announced.then(() => true),
    ]);
    const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), commandTimeoutMs).unref());
    const outcome = await Promise.race([ready.then((all) => all.every(Boolean)), timeout]);
    if (!outcome) {
      this.logger.error(`Redis at ${redact(url)} did not answer within ${commandTimeoutMs} ms: events wait in the outbox until it does`);
    }
  }

  async publish(envelopes: readonly EventEnvelope[]): Promise<void> {
    if (!this.publisher) throw new Error('the Redis transport is not started');
    const { keyPrefix, streamMaxLen } = this.options;
    // MULTI/EXEC rather than a bare pipeline: still one round trip, and a consumer blocked on the
    // stream wakes once, to the whole batch, instead of to its first entry.
    // Trimming is a script after the appends, in the same transaction: `XADD MAXLEN ~` would
    // drop entries a stopped consumer group never read.
    const pipeline = this.publisher.multi();
    const appended = new Map<string, number>();
    for (const envelope of envelopes) {
      const key = streamKey(keyPrefix, envelope.type);
      appended.set(key, (appended.get(key) ?? 0) + 1);
      pipeline.xadd(key, '*', ENVELOPE_FIELD, encodeEnvelope(envelope));
    }
    for (const key of appended.keys()) pipeline.call('EVAL', TRIM_SCRIPT, 1, key, streamMaxLen, MAX_TRIM_PER_PUBLISH);
    const replies = await resetOnTimeout(this.publisher, pipeline.exec());
    if (!replies) throw new Error('Redis did not run the publish transaction');
    const failed = replies.slice(0, envelopes.length).find(([error]) => error);
    if (failed?.[0]) throw failed[0];
    [...appended].forEach(([key, count], index) => this.trimmed(key, count, replies[envelopes.length + index] as [Error | null, unknown]));
  }

  /**
   * After a publish: a stream that counts fewer entries ever added than before plus this batch
   * was lost and made again by this append (Redis lost its data, or the key was deleted). A trim
   * that failed costs only memory (the next publish trims again); a held stream is reported.
   */
  private trimmed(key: string, appended: number, [error, reply]: [Error | null, unknown]): void {
    if (error) {
      this.logger.warn(`could not trim ${key}: ${error.message}`);
      return;
    }
    const [, length, group, added] = reply as [number, number, string | null, number];
    const before = this.addedBefore.get(key);
    this.addedBefore.set(key, added);
    if (before !== undefined && added < before + appended) {
      this.streamsLost += 1;
      this.logger.error(
        `${key} was lost and made again (Redis lost its data, or the key was deleted): entries consumer groups had not handled ` +
          'are lost and their number is unknown; re-drive them from the outbox retention (see the messaging README, "Durability contract")',
      );
    }
    const cap = this.options.streamMaxLen;
    if (!group || length <= cap + OVER_CAP_SLACK) {
      this.overCap.delete(key);
      return;
    }
    const previous = this.overCap.get(key);
    const due = !previous || Date.now() - previous.warnedAt >= OVER_CAP_WARN_EVERY_MS;
    this.overCap.set(key, { length, group, warnedAt: due ? Date.now() : (previous?.warnedAt ?? 0) });
    if (due) {
      this.logger.warn(
        `${key} holds ${length} entries, above REDIS_STREAM_MAXLEN=${cap}: consumer group ${group} has not handled them yet, ` +
          'so they are kept (Redis memory grows until it catches up; see "Durability contract" in the messaging README)',
      );
    }
  }

  /**
   * Finishes deliveries in flight (and their acks), withdraws this process's presence (so what it
   * still holds, e.g. entries Redis handed to a read it abandoned, is taken over at once), then
   * closes every connection.
   */
  async stop(): Promise<void> {
    // Renewed while deliveries in flight finish: a long drain must not look like a death.
    await Promise.all([...this.groups, ...this.readers].map((loop) => loop.stop()));
    clearInterval(this.presenceTimer);
    this.presenceTimer = undefined;
    await this.announcing;
    if (this.publisher && this.groups.length > 0) {
      await this.announce('gone').catch((error: Error) => this.logger.warn(`could not withdraw the presence of consumer ${this.consumerName} (${error.message}); it lapses by itself`));
    }
    if (this.publisher) await closeRedis(this.publisher);
    this.groups = [];
    this.readers = [];
    this.publisher = undefined;
  }

  /** Renews this process's consumer presence, one renewal at a time; a failure is reported once per streak. */
  private renewPresence(): Promise<void> {
    if (!this.publisher || this.groups.length === 0) return Promise.resolve();
    this.announcing ??= this.announce('live')
      .then(() => {
        if (this.presenceFailing) this.logger.log(`consumer ${this.consumerName} renews its presence again`);
        this.presenceFailing = false;
      })
      .catch((error: Error) => {
        if (!this.presenceFailing) {
          this.logger.warn(`could not renew the presence of consumer ${this.consumerName} (${error.message}); once it lapses, others take over its entries`);
        }
        this.presenceFailing = true;
      })
      .finally(() => (this.announcing = undefined));
    return this.announcing;
  }

  private async announce(mode: 'live' | 'gone'): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) return;
    const { keyPrefix } = this.options;
    const keys = [presenceKey(keyPrefix), presenceInstancesKey(keyPrefix), presenceSinceKey(keyPrefix)];
    const call = publisher.call('EVAL', ANNOUNCE_CONSUMER_SCRIPT, keys.length, ...keys, this.consumerName, this.consumerTtlMs, this.consumerForgetMs, mode, this.instance);
    const [, previous] = (await resetOnTimeout(publisher, call)) as [number, string];
    // Another instance's renewal before this process's first one is its dead predecessor's (a
    // restart under a stable name); after it, only a live process can have made it.
    if (previous !== '' && previous !== this.instance && this.renewed) this.clashed(mode);
    if (mode === 'live') this.renewed = true;
  }

  private clashed(mode: 'live' | 'gone'): void {
    this.consumerNameClashes += 1;
    if (mode === 'live' && Date.now() - this.clashWarnedAt < CLASH_WARN_EVERY_MS) return;
    this.clashWarnedAt = Date.now();
    this.logger.error(
      `another live process renews consumer name ${this.consumerName} too: the name (REDIS_CONSUMER_NAME) must differ per process. ` +
        (mode === 'gone'
          ? 'Its presence is left to that process.'
          : `Both read each other's pending entries, and what either holds when it dies waits REDIS_CLAIM_IDLE_MS (${this.options.claimIdleMs} ms) instead of being taken over at once`),
    );
  }

  /** Entries not yet handled by some consumer group, summed over every stream under the prefix. */
  backlog(): Promise<number> {
    if (!this.publisher) return Promise.reject(new Error('the Redis transport is not started'));
    return resetOnTimeout(this.publisher, streamBacklog(this.publisher, this.options.keyPrefix, this.groups.map((group) => group.identity)));
  }

  /** Resolves when Redis answers PING (for a readiness check); rejects at once while it is away. */
  async ping(): Promise<void> {
    if (!this.publisher) throw new Error('the Redis transport is not started');
    await resetOnTimeout(this.publisher, this.publisher.ping());
  }

  /** Entries delivered to each consumer group (module) and not yet acknowledged, over every stream. */
  pendingByGroup(): Promise<Map<string, number>> {
    if (!this.publisher) return Promise.reject(new Error('the Redis transport is not started'));
    return resetOnTimeout(this.publisher, pendingByGroup(this.publisher, this.options.keyPrefix));
  }

  /** Per process totals, and the streams a lagging group holds above `streamMaxLen` (as last seen by this publisher). */
  stats(): RedisStreamsStats {
    const sum = (counts: readonly number[]): number => counts.reduce((total, count) => total + count, 0);
    return {
      reclaimed: sum(this.groups.map((group) => group.counts.reclaimed)),
      lost: sum(this.groups.map((group) => group.counts.lost)),
      groupsLost: sum(this.groups.map((group) => group.counts.groupsLost)),
      streamsLost: this.streamsLost,
      lostBestEffort: sum(this.readers.map((reader) => reader.counts.lost)),
      consumerNameClashes: this.consumerNameClashes,
      streamsOverCap: [...this.overCap].map(([stream, { length, group }]) => ({ stream, length, heldBy: group })),
    };
  }
}

function grouped(
  subscriptions: readonly TransportSubscription[],
  keyOf: (subscription: TransportSubscription, type: string) => string,
): Map<string, TransportSubscription[]> {
  const result = new Map<string, TransportSubscription[]>();
  for (const subscription of subscriptions) {
    for (const type of subscription.eventTypes) {
      const key = keyOf(subscription, type);
      result.set(key, [...(result.get(key) ?? []), subscription]);
    }
  }
  return result;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { EventEnvelope } from '../../events/event-envelope';
import type { Transport, TransportSubscription } from '../transport';
import { BroadcastReader } from './broadcast-reader';
import { GroupConsumer } from './group-consumer';
import { closeRedis, openRedis, whenReady } from './redis-connection';
import { pendingByGroup, streamBacklog } from './stream-backlog';
import { encodeEnvelope, ENVELOPE_FIELD, streamKey } from './stream-entries';

export interface RedisStreamsOptions {
  url: string;
  /** Every key is `<keyPrefix>:…`; apps (or tests) sharing a Redis use different prefixes. */
  keyPrefix: string;
  /** `XADD … MAXLEN ~ n`; 0 never trims. */
  streamMaxLen: number;
  /** Pending entries idle this long are taken over from their consumer. */
  claimIdleMs: number;
  /** Longest wait for a publish (and for Redis at start-up). */
  commandTimeoutMs: number;
  /** This process's consumer name in every group; default `<host>:<pid>:<random>`. */
  consumerName?: string;
}

/**
 * Redis Streams behind the `Transport` interface. `publish` (the relay, through the CQRS
 * EventBus publisher hook) appends each envelope to the stream of its type in one pipeline and
 * resolves only when Redis acknowledged every `XADD`, so the relay deletes outbox rows that are
 * in Redis, and keeps them (rolls back) when Redis is away. Subscribers hosted here are fed by
 * consumer loops: a durable subscriber through its module's consumer group (replicas compete,
 * modules each see every event, ack after `deliver`, dead consumers' entries reclaimed), a
 * best-effort one by broadcast (every instance reads everything). Handlers are the same classes
 * as with the in-process transport: both call the same `deliver` of the same subscribers.
 */
export class RedisStreamsTransport implements Transport {
  readonly name = 'redis-streams';
  readonly consumerName: string;
  private readonly logger = new Logger('Messaging:Redis');
  private readonly subscriptions: TransportSubscription[] = [];
  private publisher?: Redis;
  private groups: GroupConsumer[] = [];
  private readers: BroadcastReader[] = [];

  constructor(private readonly options: RedisStreamsOptions) {
    this.consumerName = options.consumerName ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
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
    this.publisher = openRedis(url, 'publisher', `modulith-publish-${process.pid}`, this.logger, commandTimeoutMs);
    for (const [key, subscriptions] of grouped(this.subscriptions.filter((s) => s.mode === 'durable'), (s, type) => `${s.group}\u0000${type}`)) {
      const [group, type] = key.split('\u0000');
      const redis = openRedis(url, 'consumer', `modulith-${group}-${process.pid}`, this.logger, commandTimeoutMs);
      const stream = streamKey(keyPrefix, type);
      this.groups.push(new GroupConsumer({ redis, stream, group, consumer: this.consumerName, subscriptions, claimIdleMs, logger: this.logger }));
    }
    for (const [type, subscriptions] of grouped(this.subscriptions.filter((s) => s.mode === 'best-effort'), (_s, type) => type)) {
      const redis = openRedis(url, 'consumer', `modulith-broadcast-${process.pid}`, this.logger, commandTimeoutMs);
      this.readers.push(new BroadcastReader({ redis, stream: streamKey(keyPrefix, type), subscriptions, logger: this.logger }));
    }
    [...this.groups, ...this.readers].forEach((loop) => loop.start());
    const ready = Promise.all([whenReady(this.publisher, commandTimeoutMs), ...[...this.groups, ...this.readers].map((loop) => loop.ready.then(() => true))]);
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
    const pipeline = this.publisher.multi();
    for (const envelope of envelopes) {
      const key = streamKey(keyPrefix, envelope.type);
      if (streamMaxLen > 0) pipeline.xadd(key, 'MAXLEN', '~', streamMaxLen, '*', ENVELOPE_FIELD, encodeEnvelope(envelope));
      else pipeline.xadd(key, '*', ENVELOPE_FIELD, encodeEnvelope(envelope));
    }
    const replies = await pipeline.exec();
    if (!replies) throw new Error('Redis did not run the publish transaction');
    const failed = replies.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }

  /** Finishes deliveries in flight (and their acks), then closes every connection. */
  async stop(): Promise<void> {
    await Promise.all([...this.groups, ...this.readers].map((loop) => loop.stop()));
    if (this.publisher) await closeRedis(this.publisher);
    this.groups = [];
    this.readers = [];
    this.publisher = undefined;
  }

  /** Entries not yet handled by some consumer group, summed over every stream under the prefix. */
  backlog(): Promise<number> {
    if (!this.publisher) return Promise.reject(new Error('the Redis transport is not started'));
    return streamBacklog(this.publisher, this.options.keyPrefix, this.groups.map((group) => group.identity));
  }

  /** Resolves when Redis answers PING (for a readiness check); rejects at once while it is away. */
  async ping(): Promise<void> {
    if (!this.publisher) throw new Error('the Redis transport is not started');
    await this.publisher.ping();
  }

  /** Entries delivered to each consumer group (module) and not yet acknowledged, over every stream. */
  pendingByGroup(): Promise<Map<string, number>> {
    if (!this.publisher) return Promise.reject(new Error('the Redis transport is not started'));
    return pendingByGroup(this.publisher, this.options.keyPrefix);
  }

  /** Per process: entries this process took over from stopped consumers, and entries found trimmed. */
  stats(): { reclaimed: number; lost: number } {
    return this.groups.reduce((total, group) => ({ reclaimed: total.reclaimed + group.counts.reclaimed, lost: total.lost + group.counts.lost }), {
      reclaimed: 0,
      lost: 0,
    });
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

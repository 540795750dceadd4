import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Wakeup } from '../../relay/wakeup';
import { retryDelayMs } from '../../retries/backoff';
import { describeFailure } from '../../retries/failure';
import type { TransportSubscription } from '../transport';
import { bounded, whenReady } from './redis-connection';
import { compareIds, decodeEntry, entriesOfReply, record, type RawStreamEntry } from './stream-entries';

export interface BroadcastReaderOptions {
  /** A connection of its own: the loop blocks on it. */
  redis: Redis;
  stream: string;
  /** This process's best-effort subscribers of the stream's event type. */
  subscriptions: readonly TransportSubscription[];
  /** Bound of each call (`REDIS_COMMAND_TIMEOUT_MS`); a blocking read's is its BLOCK time plus this. */
  commandTimeoutMs: number;
  logger: Logger;
}

const READ_COUNT = 1000;
const BLOCK_MS = 5000;
const PACE_MS = 20;

/** Where a reader stands: the last id it read, and how many entries the stream had added up to it. */
interface Position {
  lastId: string;
  counter: number;
}

/**
 * Broadcast for best-effort subscribers: every instance reads the whole stream with plain
 * `XREAD` (no consumer group, nothing to acknowledge), from the stream's end as of start-up,
 * remembering the last id it read. It reads only while some subscriber has room in its bounded
 * queue, so a slow fan-out lags in the stream, not in memory. A reader that falls behind the
 * stream's trim loses the entries trimmed before it read them; that is allowed for best effort,
 * but each read is taken with the stream's counters in one transaction, so the loss is counted
 * (`lost`) and logged.
 */
export class BroadcastReader {
  private running = false;
  private position: Position = { lastId: '0-0', counter: 0 };
  private loop?: Promise<void>;
  private readonly stopping = new Wakeup();
  private halt: (reason: Error) => void = () => undefined;
  // `stop` abandons a blocked read at once: every call races this.
  private readonly halted = new Promise<never>((_resolve, reject) => (this.halt = reject));
  private markReady: () => void = () => undefined;
  /** Resolves once the start position is fixed: events appended after it reach this instance. */
  readonly ready: Promise<void> = new Promise<void>((resolve) => (this.markReady = resolve));
  /** Entries trimmed or deleted before this reader read them (events its subscribers never saw). */
  readonly counts = { lost: 0 };

  constructor(private readonly options: BroadcastReaderOptions) {
    this.halted.catch(() => undefined);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.signal();
    this.halt(new Error('reader stopped'));
    await this.loop;
    this.options.redis.disconnect();
  }

  private command(name: string, ...args: (string | number)[]): Promise<unknown> {
    return this.bound(this.options.redis.call(name, ...args), name);
  }

  /** `blockMs`: the call blocks in Redis this long before it answers (XREAD … BLOCK). */
  private bound<T>(call: Promise<T>, what: string, blockMs = 0): Promise<T> {
    const { redis, commandTimeoutMs, stream } = this.options;
    return bounded(redis, Promise.race([call, this.halted]), blockMs + commandTimeoutMs, `${what} of the broadcast reader of ${stream}`);
  }

  private async run(): Promise<void> {
    const { stream, subscriptions, logger } = this.options;
    // A connection still connecting would fail the first reads with "Stream isn't writeable": wait (bounded).
    await whenReady(this.options.redis, this.options.commandTimeoutMs);
    let positioned = false;
    let failures = 0;
    while (this.running) {
      try {
        if (!positioned) {
          const tail = await this.counters();
          this.position = { lastId: tail.lastGeneratedId, counter: tail.added };
          positioned = true;
          this.markReady();
        }
        await this.roomInQueues();
        if (!this.running) return;
        const raw = await this.read();
        if (raw.length === 0) continue;
        const envelopes = raw.map(decodeEntry).flatMap((entry) => (entry.envelope ? [entry.envelope] : []));
        for (const subscription of subscriptions) {
          await subscription.deliver(envelopes).catch((error) => logger.warn(`${subscription.subscriber} refused broadcast events: ${describeFailure(error).message}`));
        }
        failures = 0;
      } catch (error) {
        if (!this.running) return;
        failures += 1;
        const delayMs = retryDelayMs(failures, { baseDelayMs: 100, maxDelayMs: 2000 });
        if (failures === 1 || failures % 50 === 0) logger.warn(`broadcast read of ${stream} failed (${describeFailure(error).message}); next try in ${delayMs} ms`);
        await this.stopping.sleep(delayMs);
      }
    }
  }

  /**
   * Reads what follows the position, with the stream's counters taken in the same transaction:
   * entries removed between the position and the stream's first entry are ones this reader
   * never saw. Blocks only when nothing is there: entries appended meanwhile are handed over as
   * they come, before anything can trim them.
   */
  private async read(): Promise<RawStreamEntry[]> {
    const { redis, stream } = this.options;
    const transaction = redis.multi().call('XINFO', 'STREAM', stream).call('XREAD', 'COUNT', READ_COUNT, 'STREAMS', stream, this.position.lastId);
    const replies = await this.bound(transaction.exec(), 'the read transaction');
    if (!replies) throw new Error('Redis did not run the read transaction');
    const [[infoError, info], [readError, entries]] = replies as [[Error | null, unknown[]], [Error | null, unknown]];
    if (readError) throw readError;
    // No such key: the stream is gone (Redis lost its data) or not made yet.
    const snapshot = infoError ? { added: 0, length: 0, firstId: undefined } : streamCounters(info);
    let raw = entriesOfReply(entries);
    this.countLost(snapshot);
    if (raw.length === 0) {
      const blocking = this.options.redis.call('XREAD', 'COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', stream, this.position.lastId);
      raw = entriesOfReply(await this.bound(blocking, 'XREAD BLOCK', BLOCK_MS));
    }
    if (raw.length > 0) this.position = { lastId: raw[raw.length - 1][0], counter: this.position.counter + raw.length };
    return raw;
  }

  private countLost({ added, length, firstId }: StreamCounters): void {
    const { stream, logger } = this.options;
    const { lastId, counter } = this.position;
    if (added < counter) {
      // The stream was deleted (or Redis lost it) since the last read: what it held unread is gone.
      logger.warn(`broadcast reader of ${stream}: the stream vanished or was recreated; events appended before that and not read yet were missed`);
      this.position = { lastId, counter: added - length };
      return;
    }
    const removed = added - length;
    if (removed <= counter || (firstId !== undefined && compareIds(firstId, lastId) <= 0)) return;
    const lost = removed - counter;
    this.counts.lost += lost;
    this.position = { lastId, counter: removed };
    logger.warn(
      `broadcast reader of ${stream} fell behind the stream's trim: ${lost} events were removed before it read them and never reached ` +
        `${this.options.subscriptions.map((subscription) => subscription.subscriber).join(', ')} (best effort)`,
    );
  }

  private async counters(): Promise<StreamCounters & { lastGeneratedId: string }> {
    const info = await this.command('XINFO', 'STREAM', this.options.stream).catch((error: unknown) => {
      if (/no such key/i.test(describeFailure(error).message)) return undefined;
      throw error;
    });
    if (!info) return { added: 0, length: 0, firstId: undefined, lastGeneratedId: '0-0' };
    return { ...streamCounters(info as unknown[]), lastGeneratedId: String(record(info as unknown[])['last-generated-id']) };
  }

  private async roomInQueues(): Promise<void> {
    const full = (subscription: TransportSubscription): boolean => (subscription.queued ?? 0) >= subscription.maxBatch / 2;
    while (this.running && this.options.subscriptions.every(full)) await this.stopping.sleep(PACE_MS);
  }
}

interface StreamCounters {
  /** Entries ever appended (`entries-added`). */
  added: number;
  length: number;
  firstId?: string;
}

function streamCounters(info: unknown[]): StreamCounters {
  const fields = record(info);
  const first = fields['first-entry'] as [string, unknown] | null;
  return { added: Number(fields['entries-added']), length: Number(fields['length']), firstId: first?.[0] };
}


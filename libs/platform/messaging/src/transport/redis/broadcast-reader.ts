import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Wakeup } from '../../relay/wakeup';
import { retryDelayMs } from '../../retries/backoff';
import { describeFailure } from '../../retries/failure';
import type { TransportSubscription } from '../transport';
import { decodeEntry, entriesOfReply, type RawStreamEntry } from './stream-entries';

export interface BroadcastReaderOptions {
  /** A connection of its own: the loop blocks on it. */
  redis: Redis;
  stream: string;
  /** This process's best-effort subscribers of the stream's event type. */
  subscriptions: readonly TransportSubscription[];
  logger: Logger;
}

const READ_COUNT = 1000;
const BLOCK_MS = 5000;
const PACE_MS = 20;

/**
 * Broadcast for best-effort subscribers: every instance reads the whole stream with plain
 * `XREAD` (no consumer group, nothing to acknowledge), from the stream's end as of start-up,
 * remembering the last id it read. It reads only while some subscriber has room in its bounded
 * queue, so a slow fan-out lags in the stream, not in memory.
 */
export class BroadcastReader {
  private running = false;
  private lastId = '0-0';
  private loop?: Promise<void>;
  private readonly stopping = new Wakeup();
  private halt: (reason: Error) => void = () => undefined;
  // See GroupConsumer: a command in flight across a lost connection may never settle.
  private readonly halted = new Promise<never>((_resolve, reject) => (this.halt = reject));
  private markReady: () => void = () => undefined;
  /** Resolves once the start position is fixed: events appended after it reach this instance. */
  readonly ready: Promise<void> = new Promise<void>((resolve) => (this.markReady = resolve));

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
    return Promise.race([this.options.redis.call(name, ...args), this.halted]);
  }

  private async run(): Promise<void> {
    const { stream, subscriptions, logger } = this.options;
    let positioned = false;
    let failures = 0;
    while (this.running) {
      try {
        if (!positioned) {
          this.lastId = await this.tail();
          positioned = true;
          this.markReady();
        }
        await this.roomInQueues();
        if (!this.running) return;
        const raw = entriesOfReply(await this.command('XREAD', 'COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', stream, this.lastId));
        if (raw.length === 0) continue;
        this.lastId = raw[raw.length - 1][0];
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

  /** The id of the stream's last entry, or 0-0 when there is none yet. */
  private async tail(): Promise<string> {
    const last = (await this.command('XREVRANGE', this.options.stream, '+', '-', 'COUNT', 1)) as RawStreamEntry[];
    return last[0]?.[0] ?? '0-0';
  }

  private async roomInQueues(): Promise<void> {
    const full = (subscription: TransportSubscription): boolean => (subscription.queued ?? 0) >= subscription.maxBatch / 2;
    while (this.running && this.options.subscriptions.every(full)) await this.stopping.sleep(PACE_MS);
  }
}

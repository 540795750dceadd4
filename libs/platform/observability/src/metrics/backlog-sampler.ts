import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MessagingMetrics, type MessagingBacklog } from '@modulith/messaging/operator';
import { findTransport, isBrokerTransport } from '../health/transport-probe';

export const BACKLOG_SAMPLER_OPTIONS = Symbol('BACKLOG_SAMPLER_OPTIONS');

const FIRST_RETRY_MS = 1000;

/** Default bound of one backlog read, in milliseconds (`METRICS_BACKLOG_READ_TIMEOUT_MS` in the API). */
export const DEFAULT_BACKLOG_READ_TIMEOUT_MS = 5000;

export interface BacklogSamplerOptions {
  /**
   * Pause between two exact reads of the backlog, in milliseconds (`METRICS_BACKLOG_REFRESH_MS`):
   * the backlog gauges are at most this much plus one read's duration old.
   */
  refreshMs: number;
  /**
   * Longest one read may take, in milliseconds (default 5000; `METRICS_BACKLOG_READ_TIMEOUT_MS`).
   * A read without an answer by then counts as failed (gauges NaN): a paused database or broker
   * answers nothing and fails no query, so without this bound the gauges would stay stale for ever.
   */
  readTimeoutMs?: number;
}

/** One exact read of what waits: the database's counts and, over a broker, its consumer groups. */
export interface BacklogSample {
  backlog: MessagingBacklog;
  /** Unacknowledged messages per consumer group; absent where the transport offers no `pendingByGroup()`, null when it failed. */
  pendingByGroup?: ReadonlyMap<string, number> | null;
  /** `Date.now()` when the read started, and how long it took (milliseconds). */
  readAt: number;
  durationMs: number;
}

/**
 * Reads the exact backlog (`MessagingMetrics.backlog()`: counts over the outbox, retries, dead
 * letters and event log, and over a broker a SCAN of its streams) in the background, one read at
 * a time with `refreshMs` between them, so that a scrape only reads memory: its cost does not grow
 * with the tables or the keyspace, nor with how many scrapers ask.
 */
@Injectable()
export class BacklogSampler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Metrics');
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;
  private stopped = false;
  private retryMs = 0;
  private sample?: BacklogSample;
  private failed = false;
  /** The underlying read that outlived its bound and has not ended yet: no other starts beside it. */
  private unanswered?: { startedAt: number };

  constructor(
    private readonly messaging: MessagingMetrics,
    @Inject(BACKLOG_SAMPLER_OPTIONS) private readonly options: BacklogSamplerOptions,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {}

  /** The last read that worked; undefined before the first. */
  get latest(): BacklogSample | undefined {
    return this.sample;
  }

  /** Whether the last read failed (the gauges show NaN until one works again). */
  get failing(): boolean {
    return this.failed;
  }

  onApplicationBootstrap(): void {
    this.next(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.reading;
  }

  /** Reads now (after any read in progress), for tests and callers that need a fresh sample. */
  async refresh(): Promise<void> {
    while (this.reading) await this.reading;
    this.reading = this.read().finally(() => (this.reading = undefined));
    await this.reading;
  }

  private next(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh().finally(() => this.next(this.delayAfterRead())), delayMs);
    // A pending read must not keep a process alive that is otherwise done.
    this.timer.unref();
  }

  /**
   * `refreshMs` after a complete read. After a failed or partial one (the broker could not be
   * asked, e.g. at start-up before this process made its consumer groups) sooner: from 1 s,
   * doubling up to `refreshMs`, so a blip does not leave NaN for a whole period and an outage
   * is not hammered.
   */
  private delayAfterRead(): number {
    const sample = this.sample;
    const complete = !this.failed && sample !== undefined && sample.backlog.transportPending !== null && sample.pendingByGroup !== null;
    this.retryMs = complete ? 0 : Math.min(this.options.refreshMs, this.retryMs === 0 ? FIRST_RETRY_MS : this.retryMs * 2);
    return complete ? this.options.refreshMs : this.retryMs;
  }

  private async read(): Promise<void> {
    const readAt = Date.now();
    try {
      if (this.unanswered) {
        // Piling more reads onto a server that does not answer would only add to its queue.
        throw new Error(`the read started ${Date.now() - this.unanswered.startedAt} ms ago has still not ended`);
      }
      const [backlog, pendingByGroup] = await this.bounded(this.readBoth(), readAt);
      this.sample = { backlog, pendingByGroup, readAt, durationMs: Date.now() - readAt };
      if (this.failed) this.logger.log('the outbox backlog can be read again');
      this.failed = false;
    } catch (error) {
      // Once per outage, not on every read: the age gauge shows how long it lasts.
      if (!this.failed) this.logger.warn(`could not read the outbox backlog: ${(error as Error).message}`);
      this.failed = true;
    }
  }

  /** The database's counts and, over a broker, its consumer groups (null when those failed). */
  private readBoth(): Promise<[MessagingBacklog, ReadonlyMap<string, number> | null | undefined]> {
    const transport = this.moduleRef && findTransport(this.moduleRef);
    const byGroup = isBrokerTransport(transport) ? transport.pendingByGroup?.bind(transport) : undefined;
    return Promise.all([
      this.messaging.backlog(),
      byGroup?.().then(
        (pending) => new Map(pending instanceof Map ? pending : Object.entries(pending)),
        () => null,
      ),
    ]);
  }

  /**
   * `reading`, or a rejection once `readTimeoutMs` passed without an answer. The read itself cannot
   * be cancelled; until it ends, it is `unanswered` and no other read starts.
   */
  private bounded<T>(reading: Promise<T>, startedAt: number): Promise<T> {
    const timeoutMs = this.options.readTimeoutMs ?? DEFAULT_BACKLOG_READ_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const unanswered = { startedAt };
        this.unanswered = unanswered;
        const ended = () => {
          if (this.unanswered === unanswered) this.unanswered = undefined;
        };
        reading.then(ended, ended);
        reject(new Error(`no answer within ${timeoutMs} ms (backlog.readTimeoutMs)`));
      }, timeoutMs);
      timer.unref();
    });
    return Promise.race([reading, expired]).finally(() => clearTimeout(timer));
  }
}

import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MessagingMetrics, type MessagingBacklog } from '@modulith/messaging';
import { findTransport, isBrokerTransport } from '../health/transport-probe';

export const BACKLOG_SAMPLER_OPTIONS = Symbol('BACKLOG_SAMPLER_OPTIONS');

const FIRST_RETRY_MS = 1000;

export interface BacklogSamplerOptions {
  /**
   * Pause between two exact reads of the backlog, in milliseconds (`METRICS_BACKLOG_REFRESH_MS`):
   * the backlog gauges are at most this much plus one read's duration old.
   */
  refreshMs: number;
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
      const transport = this.moduleRef && findTransport(this.moduleRef);
      const byGroup = isBrokerTransport(transport) ? transport.pendingByGroup?.bind(transport) : undefined;
      const [backlog, pendingByGroup] = await Promise.all([
        this.messaging.backlog(),
        byGroup?.().then(
          (pending) => new Map(pending instanceof Map ? pending : Object.entries(pending)),
          () => null,
        ),
      ]);
      this.sample = { backlog, pendingByGroup, readAt, durationMs: Date.now() - readAt };
      if (this.failed) this.logger.log('the outbox backlog can be read again');
      this.failed = false;
    } catch (error) {
      // Once per outage, not on every read: the age gauge shows how long it lasts.
      if (!this.failed) this.logger.warn(`could not read the outbox backlog: ${(error as Error).message}`);
      this.failed = true;
    }
  }
}

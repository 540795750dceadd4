import { Logger } from '@nestjs/common';
import { uuidv7 } from '@modulith/core';
import type { EventEnvelope } from '../events/event-envelope';
import { Wakeup } from '../relay/wakeup';
import { retryDelayMs } from '../retries/backoff';
import { describeFailure } from '../retries/failure';
import type { TransportSubscription } from '../transport/transport';
import type { EventLog, LogEntry } from './event-log';

/** Log rows one read takes at most; their events are handed over in batches of the subscriber's size. */
const READ_ROWS = 16;

export interface LogLaneOptions {
  log: EventLog;
  /** How long an idle lane sleeps before it looks at the log again (`RELAY_POLL_INTERVAL_MS`). */
  pollIntervalMs: number;
  /** How long the cursor stays this process's without renewal (`MESSAGING_LOG_LEASE_MS`). */
  leaseMs: number;
  /** Called after the cursor moved (the log may be trimmed). */
  advanced(): void;
}

/** The cursor was taken over by another process while this one worked (its lease ran out). */
class LeaseLostError extends Error {}

/**
 * One durable subscriber's reader of the event log. It holds the subscriber's cursor under a
 * lease (one process at a time reads a subscriber's log, so in-process instances do not do the
 * same work twice; the lease is renewed while it works and taken over if it dies), reads the
 * rows of its event type after the cursor, hands their events over (`deliver` resolves once each
 * is handled, parked or dead-lettered), then moves its cursor past them. Nothing is held between
 * the steps: if the process dies in between, the events are read again and the inbox and key
 * progress absorb the repeat. A failure to deliver (the database away) is retried from the same
 * place after a backoff.
 */
export class LogLane {
  private readonly logger: Logger;
  private readonly wakeup = new Wakeup();
  private readonly stopping = new Wakeup();
  private readonly owner = uuidv7();
  private running = false;
  private loop?: Promise<void>;
  private delivering?: Promise<void>;
  private renewal?: NodeJS.Timeout;
  /** When this process last took or renewed the lease (ms since the epoch). */
  private renewedAt = 0;
  /** Position of the last row handed over and passed; undefined while another process holds the cursor. */
  position?: number;

  constructor(
    readonly subscription: TransportSubscription,
    private readonly options: LogLaneOptions,
  ) {
    this.logger = new Logger(`Messaging:Log:${subscription.subscriber}`);
  }

  get busy(): boolean {
    return this.delivering !== undefined;
  }

  /** Whether this process holds the subscriber's cursor. */
  get holdsCursor(): boolean {
    return this.position !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  wake(): void {
    this.wakeup.signal();
  }

  /** Stops reading; resolves once the delivery in flight (if any) settled and the cursor is let go. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeup.signal();
    this.stopping.signal();
    await this.loop;
    if (this.position !== undefined) {
      this.position = undefined;
      await this.options.log.release(this.subscription.subscriber, this.owner).catch(() => undefined);
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        // Renewed by every cursor move; taken again only when it may be running short (or was lost).
        if (this.position === undefined || Date.now() - this.renewedAt > this.options.leaseMs / 3) await this.takeLease();
        if (this.position === undefined) {
          // Another process reads this subscriber's log; look again once its lease could have run out.
          await this.stopping.sleep(Math.min(this.options.pollIntervalMs, this.options.leaseMs));
          continue;
        }
        const { entries, passed } = await this.options.log.read(this.position, this.subscription.eventTypes, READ_ROWS);
        if (entries.length > 0) await this.handOver(entries);
        if (this.running && passed > this.position) await this.moveTo(passed);
        failures = 0;
        if (entries.length < READ_ROWS && this.running) await this.wakeup.sleep(this.options.pollIntervalMs);
      } catch (error) {
        if (error instanceof LeaseLostError) {
          this.logger.warn('another process took this subscriber\'s log cursor over (this one was too slow to renew its lease); reading again from where it is');
          this.position = undefined;
          continue;
        }
        failures += 1;
        const delayMs = retryDelayMs(failures, { baseDelayMs: 100, maxDelayMs: Math.max(100, this.options.pollIntervalMs) });
        if (failures <= 3 || failures % 20 === 0) {
          this.logger.error(`delivery from the event log failed (${failures} in a row); the same events again in ${delayMs} ms: ${describeFailure(error).message}`);
        }
        await this.stopping.sleep(delayMs);
      }
    }
  }

  /** Delivers the rows' events in batches of the subscriber's size, moving the cursor as they are done. */
  private async handOver(entries: readonly LogEntry[]): Promise<void> {
    const wanted = new Set(this.subscription.eventTypes);
    let batch: EventEnvelope[] = [];
    for (const [index, entry] of entries.entries()) {
      batch.push(...entry.envelopes.filter((envelope) => wanted.has(envelope.type)));
      const last = index === entries.length - 1;
      if (batch.length < this.subscription.maxBatch && !last) continue;
      if (!this.running) return;
      if (batch.length > 0) await this.deliver(batch);
      await this.moveTo(entry.position);
      batch = [];
    }
  }

  private async takeLease(): Promise<void> {
    const asked = Date.now();
    this.position = await this.options.log.lease(this.subscription.subscriber, this.owner, this.options.leaseMs);
    if (this.position !== undefined) this.renewedAt = asked;
  }

  private async moveTo(position: number): Promise<void> {
    const asked = Date.now();
    if (!(await this.options.log.advance(this.subscription.subscriber, this.owner, position, this.options.leaseMs))) throw new LeaseLostError();
    this.renewedAt = asked;
    this.position = position;
    this.options.advanced();
  }

  /** Hands a batch over, renewing the lease while the handlers work (a batch may take many handler calls). */
  private async deliver(batch: EventEnvelope[]): Promise<void> {
    this.renewal = setInterval(() => {
      const asked = Date.now();
      this.options.log.lease(this.subscription.subscriber, this.owner, this.options.leaseMs).then(
        (position) => (this.renewedAt = position === undefined ? this.renewedAt : asked),
        () => undefined,
      );
    }, Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.renewal.unref();
    this.delivering = this.subscription.deliver(batch);
    try {
      await this.delivering;
    } finally {
      clearInterval(this.renewal);
      this.delivering = undefined;
    }
  }
}

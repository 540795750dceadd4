import { Logger } from '@nestjs/common';
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
  /** Called after the cursor moved (the log may be trimmed). */
  advanced(): void;
}

/**
 * One durable subscriber's reader of the event log: reads from its cursor, hands the events it
 * subscribes to over (`deliver` resolves once each is handled, parked or dead-lettered), then
 * moves its cursor past them. Nothing is held between the steps: if the process dies in
 * between, the events are read again and the inbox and key progress absorb the repeat. A
 * failure to deliver (the database away) is retried from the same place after a backoff.
 */
export class LogLane {
  private readonly logger: Logger;
  private readonly wakeup = new Wakeup();
  private readonly stopping = new Wakeup();
  private running = false;
  private loop?: Promise<void>;
  private delivering?: Promise<void>;
  /** Position of the last row handed over and passed; undefined until read from the database. */
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

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  wake(): void {
    this.wakeup.signal();
  }

  /** Stops reading; resolves once the delivery in flight (if any) settled. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeup.signal();
    this.stopping.signal();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        this.position ??= await this.options.log.cursor(this.subscription.subscriber);
        const entries = await this.options.log.read(this.position, READ_ROWS);
        if (entries.length > 0) await this.handOver(entries);
        failures = 0;
        if (entries.length < READ_ROWS && this.running) await this.wakeup.sleep(this.options.pollIntervalMs);
      } catch (error) {
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
      await this.options.log.advance(this.subscription.subscriber, entry.position);
      this.position = entry.position;
      this.options.advanced();
      batch = [];
    }
  }

  private async deliver(batch: EventEnvelope[]): Promise<void> {
    this.delivering = this.subscription.deliver(batch);
    try {
      await this.delivering;
    } finally {
      this.delivering = undefined;
    }
  }
}

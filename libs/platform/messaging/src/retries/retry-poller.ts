import { Inject, Injectable, Logger } from '@nestjs/common';
import { Database } from '@modulith/database';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { Wakeup } from '../relay/wakeup';
import type { DurableSubscriber } from '../subscribers/durable-subscriber';
import { describeFailure } from './failure';
import { RetryStore } from './retry-store';

/**
 * Re-runs parked events of the subscribers hosted here when they fall due. Due rows are locked
 * for the length of one transaction, so pollers in other instances skip them; the outcome (done,
 * rescheduled, dead-lettered) commits with that transaction. A crash in between leaves the row
 * as it was, and the inbox makes the next attempt a no-op if the handler had committed.
 */
@Injectable()
export class RetryPoller {
  private readonly logger = new Logger('Messaging:RetryPoller');
  private readonly wakeup = new Wakeup();
  private subscribers = new Map<string, DurableSubscriber>();
  private running = false;
  private loop?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private timerDueAt = Infinity;

  constructor(
    private readonly database: Database,
    private readonly retries: RetryStore,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  start(subscribers: readonly DurableSubscriber[]): void {
    if (this.running || subscribers.length === 0) return;
    this.subscribers = new Map(subscribers.map((subscriber) => [subscriber.subscriber, subscriber]));
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeup.signal();
    await this.loop;
  }

  /** Makes sure the poller looks again within `delayMs` (a retry was just scheduled or replayed). */
  wakeIn(delayMs: number): void {
    if (!this.running) return;
    const dueAt = Date.now() + delayMs;
    if (delayMs <= 0) {
      this.wakeup.signal();
      return;
    }
    if (this.timer && this.timerDueAt <= dueAt) return;
    clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDueAt = Infinity;
      this.wakeup.signal();
    }, delayMs);
    this.timer.unref();
  }

  /** Retries one batch of due events; returns how many it took. */
  async pollOnce(): Promise<number> {
    const names = [...this.subscribers.keys()];
    if (names.length === 0) return 0;
    return this.database.transaction(async (tx) => {
      const due = await this.retries.claimDue(tx, names, this.config.retryBatchSize);
      for (const parked of due) await this.subscribers.get(parked.subscriber)?.retry(tx, parked);
      return due.length;
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let sleepMs = this.config.retryPollIntervalMs;
      try {
        const taken = await this.pollOnce();
        if (taken >= this.config.retryBatchSize) continue;
        const nextDue = await this.retries.msUntilNextDue(this.database.dataSource, [...this.subscribers.keys()]);
        if (nextDue !== null) sleepMs = Math.min(sleepMs, nextDue);
      } catch (error) {
        this.logger.error(`retry poll failed; next try in ${sleepMs} ms: ${describeFailure(error).message}`);
      }
      if (this.running && sleepMs > 0) await this.wakeup.sleep(sleepMs);
    }
  }
}

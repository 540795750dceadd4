import { Inject, Injectable, Logger } from '@nestjs/common';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { Wakeup } from '../relay/wakeup';
import type { DurableSubscriber } from '../subscribers/durable-subscriber';
import { describeFailure } from './failure';
import { MessagingConnections } from '../sql/messaging-connections';
import { LEASE_MARGIN_MS, RetryStore } from './retry-store';

/**
 * Re-runs parked events of the subscribers hosted here when they fall due, with one loop per
 * subscriber, so a subscriber whose retries hang (each up to its handler timeout) delays only its
 * own. Due rows are leased in one short statement (their next attempt moved past the longest an
 * attempt can take), so pollers in other instances skip them and no transaction is held across
 * handlers; each attempt then runs in its own transaction and records its outcome (done,
 * rescheduled, dead-lettered). Only the next event of each ordering key is due (see
 * `RetryStore.leaseDue`). A crash in between leaves the lease to run out, and the inbox makes the
 * next attempt a no-op if the handler had committed.
 */
@Injectable()
export class RetryPoller {
  private readonly logger = new Logger('Messaging:RetryPoller');
  private subscribers = new Map<string, DurableSubscriber>();
  private readonly wakeups = new Map<string, Wakeup>();
  private running = false;
  private stopRequested = false;
  private loops: Promise<void>[] = [];
  private timer?: NodeJS.Timeout;
  private timerDueAt = Infinity;

  constructor(
    private readonly connections: MessagingConnections,
    private readonly retries: RetryStore,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  start(subscribers: readonly DurableSubscriber[]): void {
    if (this.running || subscribers.length === 0) return;
    this.subscribers = new Map(subscribers.map((subscriber) => [subscriber.subscriber, subscriber]));
    this.running = true;
    this.stopRequested = false;
    this.loops = [...this.subscribers.keys()].map((name) => {
      this.wakeups.set(name, new Wakeup());
      return this.run(name);
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopRequested = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.signalAll();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Makes sure the pollers look again within `delayMs` (a retry was just scheduled or replayed). */
  wakeIn(delayMs: number): void {
    if (!this.running) return;
    const dueAt = Date.now() + delayMs;
    if (delayMs <= 0) {
      this.signalAll();
      return;
    }
    if (this.timer && this.timerDueAt <= dueAt) return;
    clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDueAt = Infinity;
      this.signalAll();
    }, delayMs);
    this.timer.unref();
  }

  /** Retries one batch of due events of every subscriber here, side by side; returns how many it took. */
  async pollOnce(): Promise<number> {
    const taken = await Promise.all([...this.subscribers.keys()].map((name) => this.pollSubscriber(name)));
    return taken.reduce((sum, count) => sum + count, 0);
  }

  /** Retries up to `RETRY_BATCH_SIZE` due events of one subscriber, one lease at a time. */
  private async pollSubscriber(name: string): Promise<number> {
    const subscriber = this.subscribers.get(name);
    if (!subscriber) return 0;
    const dataSource = await this.connections.dataSource();
    let taken = 0;
    // One lease at a time, each just long enough for its own attempt: a crash strands one event
    // for one lease, not a batch for the sum of theirs.
    while (taken < this.config.retryBatchSize && !this.stopRequested) {
      const [parked] = await this.retries.leaseDue(dataSource, [name], 1, subscriber.timeoutMs + LEASE_MARGIN_MS);
      if (!parked) break;
      taken += 1;
      await subscriber.retry(parked);
    }
    return taken;
  }

  private signalAll(): void {
    for (const wakeup of this.wakeups.values()) wakeup.signal();
  }

  private async run(name: string): Promise<void> {
    const wakeup = this.wakeups.get(name) as Wakeup;
    while (this.running) {
      let sleepMs = this.config.retryPollIntervalMs;
      try {
        const taken = await this.pollSubscriber(name);
        if (taken >= this.config.retryBatchSize) continue;
        const nextDue = await this.retries.msUntilNextDue(await this.connections.dataSource(), [name]);
        if (nextDue !== null) sleepMs = Math.min(sleepMs, nextDue);
      } catch (error) {
        this.logger.error(`retry poll of ${name} failed; next try in ${sleepMs} ms: ${describeFailure(error).message}`);
      }
      if (this.running && sleepMs > 0) await wakeup.sleep(sleepMs);
    }
  }
}

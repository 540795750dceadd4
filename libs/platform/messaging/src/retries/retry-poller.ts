import { Inject, Injectable, Logger } from '@nestjs/common';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { Wakeup } from '../relay/wakeup';
import type { DurableSubscriber } from '../subscribers/durable-subscriber';
import { describeFailure } from './failure';
import { MessagingConnections } from '../sql/messaging-connections';
import { RetryStore } from './retry-store';

// Time to record an attempt's outcome after the handler's own bound.
const LEASE_MARGIN_MS = 5000;

/**
 * Re-runs parked events of the subscribers hosted here when they fall due. Due rows are leased
 * in one short statement (their next attempt moved past the longest an attempt can take), so
 * pollers in other instances skip them and no transaction is held across handlers; each
 * attempt then runs in its own transaction and records its outcome (done, rescheduled,
 * dead-lettered). A crash in between leaves the lease to run out, and the inbox makes the next
 * attempt a no-op if the handler had committed.
 */
@Injectable()
export class RetryPoller {
  private readonly logger = new Logger('Messaging:RetryPoller');
  private readonly wakeup = new Wakeup();
  private subscribers = new Map<string, DurableSubscriber>();
  private running = false;
  private stopRequested = false;
  private loop?: Promise<void>;
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
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopRequested = true;
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
    const dataSource = await this.connections.dataSource();
    let taken = 0;
    // One lease at a time, each just long enough for its own attempt: a crash strands one event
    // for one lease, not a batch for the sum of theirs.
    while (taken < this.config.retryBatchSize && !this.stopRequested) {
      const [parked] = await this.retries.leaseDue(dataSource, names, 1, this.leaseMs());
      if (!parked) break;
      taken += 1;
      await this.subscribers.get(parked.subscriber)?.retry(parked);
    }
    return taken;
  }

  /** How far a lease moves an event's next attempt: past its longest attempt, with a margin for recording the outcome. */
  private leaseMs(): number {
    return Math.max(this.config.handlerTimeoutMs, ...[...this.subscribers.values()].map((subscriber) => subscriber.timeoutMs)) + LEASE_MARGIN_MS;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let sleepMs = this.config.retryPollIntervalMs;
      try {
        const taken = await this.pollOnce();
        if (taken >= this.config.retryBatchSize) continue;
        const nextDue = await this.retries.msUntilNextDue(await this.connections.dataSource(), [...this.subscribers.keys()]);
        if (nextDue !== null) sleepMs = Math.min(sleepMs, nextDue);
      } catch (error) {
        this.logger.error(`retry poll failed; next try in ${sleepMs} ms: ${describeFailure(error).message}`);
      }
      if (this.running && sleepMs > 0) await this.wakeup.sleep(sleepMs);
    }
  }
}

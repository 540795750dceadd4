import { Inject, Injectable, Optional } from '@nestjs/common';
import type { EventEnvelope } from '../events/event-envelope';
import { EventLog, type AppendedClaim } from '../log/event-log';
import { LogLane } from '../log/log-lane';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { ShutdownTimeoutError } from '../messaging.errors';
import { MessagingTopology } from '../topology/messaging-topology';
import type { Transport, TransportSubscription } from './transport';

/** Least time between two trims of the log. */
const TRIM_EVERY_MS = 500;
/** Least time between two topology checks before a claim (see `assertMayClaim`). */
const TOPOLOGY_CHECK_EVERY_MS = 1000;

/**
 * Delivers relayed events to the subscribers hosted in this process. Durable subscribers each
 * read `messaging.event_log` from their own cursor (`LogLane`), so a slow, failing or hung one
 * holds back only itself; best-effort subscribers get each batch once the relay committed it.
 * The relay may only move events into the log while every durable subscriber of the database
 * is hosted by a process reading it, which `MessagingTopology` enforces before each claim.
 */
@Injectable()
export class InProcessTransport implements Transport {
  readonly name = 'in-process';
  readonly delivery = 'log';
  private readonly bestEffort: TransportSubscription[] = [];
  private readonly lanes: LogLane[] = [];
  private rejectAll?: (error: Error) => void;
  // Settles only when shutdown gives up on the deliveries in flight (see `abandon`).
  private readonly abandoned = new Promise<never>((_, reject) => (this.rejectAll = reject));
  private lastTrimAt = 0;
  private checkedAt = -Infinity;
  private trimming?: Promise<void>;

  constructor(
    private readonly log: EventLog,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
    @Optional() private readonly topology?: MessagingTopology,
  ) {
    this.abandoned.catch(() => undefined);
  }

  subscribe(subscription: TransportSubscription): void {
    if (subscription.mode === 'best-effort') this.bestEffort.push(subscription);
    else {
      const options = { log: this.log, pollIntervalMs: this.config.relayPollIntervalMs, leaseMs: this.config.logLeaseMs, advanced: () => this.trimSoon() };
      this.lanes.push(new LogLane(subscription, options));
    }
  }

  logReaders(): number {
    return this.lanes.length;
  }

  /** The types of the log readers holding their cursor here: only they can take a claim's rows. */
  appendedTypes(): readonly string[] {
    return [...new Set(this.lanes.filter((lane) => lane.holdsCursor).flatMap((lane) => lane.subscription.eventTypes))];
  }

  /** Offers the claim's rows to every log reader here (each takes them or reads the log; see `LogLane.offer`). */
  appended(claim: AppendedClaim): void {
    for (const lane of this.lanes) lane.offer(claim);
  }

  appendedElsewhere(): void {
    for (const lane of this.lanes) lane.wake();
  }

  publishedTypes(): readonly string[] {
    return [...new Set(this.bestEffort.flatMap((subscription) => subscription.eventTypes))];
  }

  /**
   * Refuses a claim while the topology says the relay may not move events on (checked at most
   * every `TOPOLOGY_CHECK_EVERY_MS`: a claim only moves events into the log, which keeps them for
   * every registered subscriber's cursor, so the check guards subscribers never registered and
   * need not cost a query per batch).
   */
  async assertMayClaim(): Promise<void> {
    const now = Date.now();
    if (now - this.checkedAt < TOPOLOGY_CHECK_EVERY_MS) return;
    await this.topology?.assertMayDelete();
    this.checkedAt = now;
  }

  /**
   * After the relay committed a batch to the log (and handed its rows to the log readers through
   * `appended`): feeds best-effort subscribers. The relay passes only the envelopes of the types someone here takes (see
   * `publishedTypes`), none when no one does.
   */
  async publish(envelopes: readonly EventEnvelope[]): Promise<void> {
    const deliveries = this.bestEffort
      .map((subscription) => ({ subscription, wanted: envelopes.filter((envelope) => subscription.eventTypes.includes(envelope.type)) }))
      .filter(({ wanted }) => wanted.length > 0)
      .map(({ subscription, wanted }) => subscription.deliver(wanted));
    const results = await Promise.race([Promise.allSettled(deliveries), this.abandoned]);
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Subscribers with a delivery in progress. */
  busy(): string[] {
    return this.lanes.filter((lane) => lane.busy).map((lane) => lane.subscription.subscriber);
  }

  /**
   * Shutdown's budget is spent: the log readers stop waiting for handlers still running (their
   * cursors stay where they were, so those events are read again after restart).
   */
  abandon(): void {
    this.rejectAll?.(new ShutdownTimeoutError('delivery abandoned at shutdown: the events are read from the log again after restart'));
  }

  async start(): Promise<void> {
    await this.log.register(this.lanes.map((lane) => ({ subscriber: lane.subscription.subscriber, eventType: lane.subscription.eventTypes[0] })));
    await this.log.forgetUndeclared();
    for (const lane of this.lanes) lane.start();
  }

  async stop(): Promise<void> {
    await Promise.race([Promise.all(this.lanes.map((lane) => lane.stop())), this.abandoned]).catch(() => undefined);
    await this.trimming;
  }

  /**
   * Resolves once every log reader here has passed what the log holds now (tests and the CLI:
   * "everything relayed so far is handled or parked").
   */
  async settled(timeoutMs = 30_000): Promise<void> {
    const head = await this.log.head();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.lanes.every((lane) => (lane.position ?? -1) >= head && !lane.busy)) return;
      // Another process holds a cursor: its lease may not be ours to wait for.
      if (this.lanes.some((lane) => !lane.holdsCursor) && (await this.log.cursorsAt(head))) return;
      if (Date.now() > deadline) throw new Error(`log readers did not reach position ${head} within ${timeoutMs} ms`);
      for (const lane of this.lanes) lane.wake();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private trimSoon(): void {
    const now = Date.now();
    if (this.trimming || now - this.lastTrimAt < TRIM_EVERY_MS) return;
    this.lastTrimAt = now;
    this.trimming = this.log
      .trim()
      .then(() => undefined, () => undefined)
      .finally(() => (this.trimming = undefined));
  }
}

import { Logger } from '@nestjs/common';
import { uuidv7 } from '@modulith/core';
import type { EventEnvelope } from '../events/event-envelope';
import { Wakeup } from '../relay/wakeup';
import { retryDelayMs } from '../retries/backoff';
import { describeFailure } from '../retries/failure';
import type { DeliveryHint, TransportSubscription } from '../transport/transport';
import { appendedEntry, type AppendedClaim, type CursorLease, type EventLog, type LogEntry } from './event-log';

/** Log rows one read takes at most; their events are handed over in batches of the subscriber's size. */
const READ_ROWS = 16;
/**
 * Claims a lane keeps while it works (see `offer`): at most this many, each at most a relay
 * batch. Past them it drops what it is offered and reads the log instead, so a slow subscriber's
 * backlog stays in the log, not in memory.
 */
const OFFERED_CLAIMS = 8;
/**
 * While a lane has more to read, it writes its cursor at most this often (and always before it
 * sleeps, stops or lets the cursor go): one write per batch was a round trip and an update per
 * batch and subscriber. A crash re-reads what it handed over since, as possibly redelivered.
 */
const CURSOR_WRITE_EVERY_MS = 200;

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
  /** The cursor as last written (`position` runs ahead of it by up to `CURSOR_WRITE_EVERY_MS`), and when. */
  private written = 0;
  private writtenAt = 0;
  /**
   * Rows up to this position may have been handed over before (by an earlier holder of the
   * cursor, or by this lane before a failure) without the cursor passing them: they go to the
   * subscriber as possibly redelivered, so it looks them up in its inbox first. Later rows are
   * offered for the first time (see `DeliveryHint`).
   */
  private redeliveredThrough = 0;
  /** The last position read. */
  private readThrough = 0;
  /** Claims of this process's relay not yet passed, oldest first (see `offer`). */
  private offered: AppendedClaim[] = [];
  /** The last position of every claim offered, kept or not: the lane does not sleep before its cursor passed it (see `run`). */
  private offeredThrough = 0;
  /**
   * A lease call of this lane failed without an answer: it may have taken the cursor from
   * another process all the same (the statement committed, the answer was lost), so the next
   * lease that names this lane as the previous owner does not prove it held the cursor meanwhile.
   */
  private leaseAnswerLost = false;

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

  /**
   * What a claim of this process's relay appended to the log, once it committed. When the cursor
   * is just before the claim's first position, the lane takes its rows from here instead of
   * reading the log: the same rows a read would return (no other row lies in the claim's span),
   * read in the same order. Anything else (a gap, another process's claim in between, a full
   * queue) leaves the lane to read the log, as without an offer.
   */
  offer(claim: AppendedClaim): void {
    if (this.position === undefined) return;
    if (this.offered.length < OFFERED_CLAIMS) this.offered.push(claim);
    this.offeredThrough = Math.max(this.offeredThrough, claim.last);
    this.wakeup.signal();
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
    this.offered = [];
    if (this.position !== undefined) {
      await this.writeCursor().catch(() => undefined);
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
        const from = this.position;
        const { entries, passed } = this.takeOffered(this.position) ?? (await this.options.log.read(this.position, this.subscription.eventTypes, READ_ROWS));
        this.readThrough = Math.max(this.readThrough, entries.at(-1)?.position ?? 0);
        // The cursor moves once per read, and is written when the lane catches up or every
        // CURSOR_WRITE_EVERY_MS (which renews the lease). A failure before the move leaves the
        // rows to be read again, as possibly redelivered.
        const handedOver = entries.length > 0 ? await this.handOver(entries) : this.position;
        const next = this.running ? Math.max(handedOver, passed) : handedOver;
        if (next > this.position) this.position = next;
        failures = 0;
        // Offered rows it has not passed are still to read, unless this turn moved nothing on
        // (they are gone: deleted by hand, or a failover to a standby that never got them): no
        // busy loop.
        const caughtUp = entries.length < READ_ROWS && (this.position >= this.offeredThrough || next === from);
        if (caughtUp || Date.now() - this.writtenAt >= CURSOR_WRITE_EVERY_MS) await this.writeCursor();
        if (caughtUp && this.running) await this.wakeup.sleep(this.options.pollIntervalMs);
      } catch (error) {
        if (error instanceof LeaseLostError) {
          this.logger.warn('another process took this subscriber\'s log cursor over (this one was too slow to renew its lease); reading again from where it is');
          this.position = undefined;
          this.offered = [];
          continue;
        }
        failures += 1;
        this.redeliveredThrough = Math.max(this.redeliveredThrough, this.readThrough);
        const delayMs = retryDelayMs(failures, { baseDelayMs: 100, maxDelayMs: Math.max(100, this.options.pollIntervalMs) });
        if (failures <= 3 || failures % 20 === 0) {
          this.logger.error(`delivery from the event log failed (${failures} in a row); the same events again in ${delayMs} ms: ${describeFailure(error).message}`);
        }
        await this.stopping.sleep(delayMs);
      }
    }
  }

  /**
   * The offered claims that follow `position` without a gap, as `EventLog.read` would return
   * them (up to `READ_ROWS` rows of this lane's types; `passed`: the last claim's end); undefined
   * when the log must be read. Drops the claims the cursor has passed.
   */
  private takeOffered(position: number): { entries: LogEntry[]; passed: number } | undefined {
    const wanted = new Set(this.subscription.eventTypes);
    const entries: LogEntry[] = [];
    let passed = position;
    this.offered = this.offered.filter((claim) => claim.last > position);
    for (const claim of this.offered) {
      const complete = claim.rows === claim.last - claim.first + 1 && this.subscription.eventTypes.every((type) => claim.types.includes(type));
      if (claim.first !== passed + 1 || !complete || entries.length >= READ_ROWS) break;
      for (const row of claim.entries) if (wanted.has(row.type)) entries.push(appendedEntry(row));
      passed = claim.last;
    }
    // Taken claims go now (a failed delivery reads their rows from the log again).
    this.offered = this.offered.filter((claim) => claim.last > passed);
    return passed > position ? { entries, passed } : undefined;
  }

  /**
   * Delivers the rows' events in batches of the subscriber's size; returns the position of the
   * last row whose events were all handed over (less than all when stopping).
   */
  private async handOver(entries: readonly LogEntry[]): Promise<number> {
    const wanted = new Set(this.subscription.eventTypes);
    let through = this.position ?? 0;
    let batch: EventEnvelope[] = [];
    let batchFrom = entries[0].position;
    for (const [index, entry] of entries.entries()) {
      batch.push(...entry.envelopes.filter((envelope) => wanted.has(envelope.type)));
      const last = index === entries.length - 1;
      if (batch.length < this.subscription.maxBatch && !last) continue;
      if (!this.running) return through;
      await this.keepLease();
      if (batch.length > 0) await this.deliver(batch, { redelivered: batchFrom <= this.redeliveredThrough });
      through = entry.position;
      batch = [];
      if (!last) batchFrom = entries[index + 1].position;
    }
    return through;
  }

  /**
   * Between the batches of one read: the cursor moves (and so renews the lease) only once per
   * read, and the renewal timer runs only inside a batch, so a read of many short batches would
   * otherwise let the lease run out while this process works, and another would take the cursor
   * over and hand the same events over beside it. Renews once a third of the lease has gone by;
   * throws `LeaseLostError` when another process holds the cursor now.
   */
  private async keepLease(): Promise<void> {
    if (Date.now() - this.renewedAt <= this.options.leaseMs / 3) return;
    const asked = Date.now();
    const lease = await this.lease();
    if (lease === undefined) throw new LeaseLostError();
    this.renewedAt = asked;
  }

  private async takeLease(): Promise<void> {
    const asked = Date.now();
    const held = this.position;
    const lease = await this.lease();
    // Held all along: this lane's own position may be ahead of the cursor as last written.
    this.position = lease?.renewed && held !== undefined ? Math.max(held, lease.position) : lease?.position;
    if (lease === undefined) return;
    this.written = lease.position;
    this.renewedAt = asked;
  }

  /**
   * Takes or renews the lease; after a gap in this lane's holding of the cursor (`renewed` false,
   * or an earlier lease call whose answer was lost), the rows up to the head may have been handed
   * over by another holder.
   */
  private async lease(): Promise<CursorLease | undefined> {
    let lease: CursorLease | undefined;
    try {
      lease = await this.options.log.lease(this.subscription.subscriber, this.owner, this.options.leaseMs);
    } catch (error) {
      this.leaseAnswerLost = true;
      throw error;
    }
    if (lease === undefined) return undefined;
    if (!lease.renewed || this.leaseAnswerLost) this.redeliveredThrough = Math.max(this.redeliveredThrough, lease.head);
    this.leaseAnswerLost = false;
    return lease;
  }

  /** Writes the cursor where the lane is, if it moved since (this renews the lease too). */
  private async writeCursor(): Promise<void> {
    const position = this.position;
    if (position === undefined || position <= this.written) return;
    const asked = Date.now();
    if (!(await this.options.log.advance(this.subscription.subscriber, this.owner, position, this.options.leaseMs))) throw new LeaseLostError();
    this.renewedAt = asked;
    this.writtenAt = asked;
    this.written = position;
    this.options.advanced();
  }

  /** Hands a batch over, renewing the lease while the handlers work (a batch may take many handler calls). */
  private async deliver(batch: EventEnvelope[], hint: DeliveryHint): Promise<void> {
    this.renewal = setInterval(() => {
      const asked = Date.now();
      this.lease().then((lease) => {
        if (lease !== undefined) this.renewedAt = asked;
      }, () => undefined);
    }, Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.renewal.unref();
    this.delivering = this.subscription.deliver(batch, hint);
    try {
      await this.delivering;
    } finally {
      clearInterval(this.renewal);
      this.delivering = undefined;
    }
  }
}

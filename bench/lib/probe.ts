/**
 * Commit-to-handled bookkeeping for one run of `n` transfers named `${prefix}-${i}`: when each
 * transfer's producing transaction committed, and when each subscriber had committed its effect.
 * A transfer is handled once every subscriber has; its latency is the last handling minus the
 * commit. Redeliveries are counted once per subscriber (the exactly-once check is in SQL).
 */
import { Latencies, type LatencySummary } from './stats';
import { nowMs } from './ipc';

export class RunProbe {
  private readonly committedAt: Float64Array;
  private readonly handledAt: Float64Array;
  private readonly deliveringAt: Float64Array;
  private readonly relayedAt: Float64Array;
  private readonly seen: Uint8Array;
  private readonly full: number;
  private handledAll = 0;
  private waiter?: () => void;
  firstCommitAt = Number.POSITIVE_INFINITY;
  lastHandledAt = 0;

  constructor(
    readonly prefix: string,
    readonly n: number,
    readonly subscribers: readonly string[],
  ) {
    if (subscribers.length > 8) throw new Error('at most 8 subscribers');
    this.committedAt = new Float64Array(n);
    this.handledAt = new Float64Array(n);
    this.deliveringAt = new Float64Array(n);
    this.relayedAt = new Float64Array(n);
    this.seen = new Uint8Array(n);
    this.full = (1 << subscribers.length) - 1;
  }

  get complete(): boolean {
    return this.handledAll === this.n;
  }

  get handledCount(): number {
    return this.handledAll;
  }

  private index(transferId: string): number {
    if (!transferId.startsWith(this.prefix) || transferId.charCodeAt(this.prefix.length) !== 45 /* - */) return -1;
    const index = Number(transferId.slice(this.prefix.length + 1));
    return Number.isInteger(index) && index >= 0 && index < this.n ? index : -1;
  }

  committed(transferIds: readonly string[], at = nowMs()): void {
    if (at < this.firstCommitAt) this.firstCommitAt = at;
    for (const id of transferIds) {
      const index = this.index(id);
      if (index >= 0) this.committedAt[index] = at;
    }
  }

  /** Optional: a subscriber was handed these transfers' events (splits the latency in two). */
  delivering(transferIds: readonly string[], at = nowMs()): void {
    for (const id of transferIds) {
      const index = this.index(id);
      if (index >= 0 && this.deliveringAt[index] === 0) this.deliveringAt[index] = at;
    }
  }

  /** Optional (Modulith): the relay handed these transfers' events to the transport (committed to the event log, in-process). */
  relayed(transferIds: readonly string[], at = nowMs()): void {
    for (const id of transferIds) {
      const index = this.index(id);
      if (index >= 0 && this.relayedAt[index] === 0) this.relayedAt[index] = at;
    }
  }

  handled(subscriber: string, transferIds: readonly string[], at = nowMs()): void {
    const bit = 1 << this.subscribers.indexOf(subscriber);
    if (bit < 1) return;
    for (const id of transferIds) {
      const index = this.index(id);
      if (index < 0 || this.seen[index] & bit) continue;
      this.seen[index] |= bit;
      if (at > this.handledAt[index]) this.handledAt[index] = at;
      if (this.seen[index] === this.full) {
        this.handledAll += 1;
        if (at > this.lastHandledAt) this.lastHandledAt = at;
      }
    }
    if (this.complete) this.wake();
  }

  /** Resolves when every transfer is handled by every subscriber; rejects after `timeoutMs`. */
  whenComplete(timeoutMs: number): Promise<void> {
    if (this.complete) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`only ${this.handledAll} of ${this.n} transfers handled by every subscriber after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Commit-to-handled of every transfer that has both times. */
  latencies(): LatencySummary & { missingCommit: number; split?: { toDelivery: LatencySummary; inHandlers: LatencySummary; toRelay?: LatencySummary } } {
    const latencies = new Latencies();
    const toDelivery = new Latencies();
    const inHandlers = new Latencies();
    const toRelay = new Latencies();
    let missingCommit = 0;
    for (let i = 0; i < this.n; i += 1) {
      if (this.seen[i] !== this.full) continue;
      if (this.committedAt[i] === 0) missingCommit += 1;
      else latencies.recordMs(Math.max(0, this.handledAt[i] - this.committedAt[i]));
      if (this.committedAt[i] !== 0 && this.deliveringAt[i] !== 0) {
        toDelivery.recordMs(Math.max(0, this.deliveringAt[i] - this.committedAt[i]));
        inHandlers.recordMs(Math.max(0, this.handledAt[i] - this.deliveringAt[i]));
      }
      if (this.committedAt[i] !== 0 && this.relayedAt[i] !== 0) toRelay.recordMs(Math.max(0, this.relayedAt[i] - this.committedAt[i]));
    }
    const split =
      toDelivery.count > 0
        ? { toDelivery: toDelivery.summary(), inHandlers: inHandlers.summary(), ...(toRelay.count > 0 ? { toRelay: toRelay.summary() } : {}) }
        : undefined;
    return { ...latencies.summary(), missingCommit, split };
  }
}

import { Logger } from '@nestjs/common';
import { BoundedQueue, runWithCorrelation } from '@modulith/core';
import type { EventEnvelope } from '../events/event-envelope';
import type { IntegrationEvent, IntegrationEventClass } from '../events/integration-event';
import { readEvent } from '../events/read-event';
import type { MessagingMetrics } from '../metrics/messaging-metrics';
import { describeFailure } from '../retries/failure';

/**
 * One `@ObserveIntegrationEvent` method observing one relayed integration event class. `offer` only
 * enqueues (the relay never waits for an observer); a loop calls the handler once per event,
 * never more than `concurrency` calls at a time. When the handler falls behind by more than the
 * queue's capacity the oldest events are dropped and counted: a slow observer costs events,
 * not memory. No inbox, no retry (what `@OnIntegrationEvent` subscribers are for).
 */
export class BoundedObserver {
  private readonly queue: BoundedQueue<EventEnvelope>;
  private readonly logger: Logger;
  private readonly calls = new Set<Promise<void>>();
  private loop?: Promise<void>;
  private mostInFlight = 0;

  constructor(
    /** `observer:<Class>` in metrics and logs. */
    readonly name: string,
    readonly eventClass: IntegrationEventClass,
    private readonly observe: (event: IntegrationEvent) => unknown,
    private readonly metrics: MessagingMetrics,
    capacity: number,
    private readonly concurrency: number,
  ) {
    this.logger = new Logger(`Messaging:${name}`);
    this.queue = new BoundedQueue(capacity, 'drop-oldest', (envelope) => this.dropped(envelope, 1));
  }

  /** Calls running now, events waiting, and the most calls that ever ran at once. */
  get load(): { inFlight: number; queued: number; mostInFlight: number; dropped: number } {
    return { inFlight: this.calls.size, queued: this.queue.size, mostInFlight: this.mostInFlight, dropped: this.queue.dropped };
  }

  /** Names what a stop would abandon: a call in progress. */
  get busy(): boolean {
    return this.calls.size > 0;
  }

  offer(envelope: EventEnvelope): void {
    this.queue.offer(envelope);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Takes no more events and drops those waiting; resolves once the calls in progress end (the caller bounds the wait). */
  async stop(): Promise<void> {
    this.queue.close();
    await this.loop;
    await Promise.all(this.calls);
  }

  private async run(): Promise<void> {
    for (;;) {
      await this.queue.waitForItems();
      while (this.calls.size >= this.concurrency && !this.queue.closed) await Promise.race(this.calls);
      if (this.queue.closed) {
        const left = this.queue.take(this.queue.size);
        if (left.length > 0) this.dropped(left[0], left.length);
        return;
      }
      const [envelope] = this.queue.take(1);
      const call = this.call(envelope).finally(() => this.calls.delete(call));
      this.calls.add(call);
      this.mostInFlight = Math.max(this.mostInFlight, this.calls.size);
    }
  }

  private async call(envelope: EventEnvelope): Promise<void> {
    const started = performance.now();
    try {
      if (envelope.version > this.eventClass.version) {
        throw new Error(`understands ${envelope.type} up to version ${this.eventClass.version}, got version ${envelope.version}`);
      }
      const { event } = readEvent(this.eventClass, envelope);
      await runWithCorrelation({ correlationId: envelope.correlationId, causationId: envelope.id }, () => this.observe(event));
      this.metrics.record({ kind: 'handled', subscriber: this.name, eventType: envelope.type, events: 1, durationMs: performance.now() - started });
    } catch (error) {
      this.metrics.record({ kind: 'failed', subscriber: this.name, eventType: envelope.type, attempt: 1 });
      this.logger.warn(`event ${envelope.id} (${envelope.type}) [correlation ${envelope.correlationId}] not observed: ${describeFailure(error).message}`);
    }
  }

  private dropped(envelope: EventEnvelope, events: number): void {
    this.metrics.record({ kind: 'dropped', subscriber: this.name, eventType: envelope.type, events });
  }
}

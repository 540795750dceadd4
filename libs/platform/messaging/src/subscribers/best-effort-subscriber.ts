import { Logger } from '@nestjs/common';
import { BoundedQueue } from '@modulith/core';
import type { EventEnvelope } from '../events/event-envelope';
import type { MessagingMetrics } from '../metrics/messaging-metrics';
import { describeFailure } from '../retries/failure';
import type { TransportSubscription } from '../transport/transport';
import { traceDelivery, type DeliveryTarget } from '../tracing/message-tracing';
import { invokeSubscriber, type SubscriberDefinition } from './subscriber-definition';

/**
 * Runs one best-effort subscriber: `deliver` only enqueues (never waits for the handler, so a
 * slow fan-out cannot hold back the relay), and one loop drains the queue. When the handler
 * falls behind by more than the queue's capacity, the oldest events are dropped and counted.
 * No inbox, no retry: a failing call is logged and the event is gone.
 */
export class BestEffortSubscriber implements TransportSubscription {
  readonly mode = 'best-effort';
  readonly subscriber: string;
  readonly group: string;
  readonly eventTypes: readonly string[];
  readonly maxBatch: number;
  private readonly queue: BoundedQueue<EventEnvelope>;
  private readonly logger: Logger;
  private draining?: Promise<void>;
  private readonly target: DeliveryTarget;

  constructor(
    readonly definition: SubscriberDefinition,
    private readonly metrics: MessagingMetrics,
    capacity: number,
  ) {
    this.subscriber = definition.subscriber;
    this.group = definition.module;
    this.eventTypes = [definition.eventClass.type];
    this.maxBatch = capacity;
    this.logger = new Logger(`Messaging:${definition.subscriber}`);
    this.target = { subscriber: definition.subscriber, module: definition.module, eventType: definition.eventClass.type };
    this.queue = new BoundedQueue(capacity, 'drop-oldest', () => this.dropped(1));
  }

  /** Events waiting in the queue (a broker transport paces its reads on it). */
  get queued(): number {
    return this.queue.size;
  }

  /** Events waiting and dropped so far. */
  get backlog(): { queued: number; dropped: number } {
    return { queued: this.queue.size, dropped: this.queue.dropped };
  }

  async deliver(envelopes: readonly EventEnvelope[]): Promise<void> {
    for (const envelope of envelopes) this.queue.offer(envelope);
  }

  start(): void {
    this.draining ??= this.drain();
  }

  /** Lets the call in progress finish; what is still queued is dropped. */
  async stop(): Promise<void> {
    this.queue.close();
    await this.draining;
  }

  private async drain(): Promise<void> {
    for (;;) {
      await this.queue.waitForItems();
      if (this.queue.closed) {
        const left = this.queue.take(this.queue.size).length;
        if (left > 0) this.dropped(left);
        return;
      }
      const [envelope] = this.queue.take(1);
      const started = performance.now();
      try {
        await traceDelivery([envelope], this.target, () => invokeSubscriber(this.definition, [envelope]));
        this.metrics.record({ kind: 'handled', subscriber: this.subscriber, eventType: envelope.type, events: 1, durationMs: performance.now() - started });
      } catch (error) {
        this.metrics.record({ kind: 'failed', subscriber: this.subscriber, eventType: envelope.type, attempt: 1 });
        this.logger.warn(`event ${envelope.id} (${envelope.type}) [correlation ${envelope.correlationId}] lost, best-effort handler failed: ${describeFailure(error).message}`);
      }
    }
  }

  private dropped(events: number): void {
    this.metrics.record({ kind: 'dropped', subscriber: this.subscriber, eventType: this.eventTypes[0], events });
  }
}

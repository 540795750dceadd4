// A durable subscription for transport tests: what a transport handed it, and with which flag.
import type { EventEnvelope } from '../events/event-envelope';
import type { DeliveryHint, TransportSubscription } from '../transport/transport';

export interface RecordingSubscriptionOptions {
  subscriber: string;
  eventType: string;
  /** Default 'test'. */
  group?: string;
  /** Default 100. */
  maxBatch?: number;
  /** How long each delivery takes, in ms (default 0). */
  delayMs?: number;
}

/** One `deliver` call: the `label` of each event's payload, and the `DeliveryHint` flag. */
export interface RecordedDelivery {
  labels: string[];
  redelivered: boolean | undefined;
}

/** Records every delivery; fails the next `failNext` ones (after recording them), as a database gone away would. */
export class RecordingSubscription implements TransportSubscription {
  readonly mode = 'durable';
  readonly subscriber: string;
  readonly group: string;
  readonly eventTypes: readonly string[];
  readonly maxBatch: number;
  readonly deliveries: RecordedDelivery[] = [];
  failNext = 0;
  private readonly delayMs: number;

  constructor(options: RecordingSubscriptionOptions) {
    this.subscriber = options.subscriber;
    this.group = options.group ?? 'test';
    this.eventTypes = [options.eventType];
    this.maxBatch = options.maxBatch ?? 100;
    this.delayMs = options.delayMs ?? 0;
  }

  async deliver(envelopes: readonly EventEnvelope[], hint?: DeliveryHint): Promise<void> {
    this.deliveries.push({ labels: envelopes.map((envelope) => (envelope.payload as { label: string }).label), redelivered: hint?.redelivered });
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('the database went away');
    }
  }

  /** Every label handed over, in order (repeats included). */
  labels(): string[] {
    return this.deliveries.flatMap((delivery) => delivery.labels);
  }

  /** The labels handed over with `redelivered` false, in order. */
  firstDeliveries(): string[] {
    return this.deliveries.filter((delivery) => delivery.redelivered === false).flatMap((delivery) => delivery.labels);
  }
}

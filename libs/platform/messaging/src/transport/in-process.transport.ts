import { Injectable, Optional } from '@nestjs/common';
import type { EventEnvelope } from '../events/event-envelope';
import { ShutdownTimeoutError } from '../messaging.errors';
import { MessagingTopology } from '../topology/messaging-topology';
import type { Transport, TransportSubscription } from './transport';

/**
 * Delivers relayed events to the subscribers hosted in this process. Subscribers run side by
 * side, so a slow or failing one does not hold back the others (a failing one parks its event
 * and returns). With several app instances each relay delivers what it claimed, so the
 * instances share the load like a consumer group; that is only safe while every relaying
 * process hosts every durable subscriber and at most one relays for best-effort subscribers,
 * which `MessagingTopology` enforces: each batch is checked before the relay may delete it.
 */
@Injectable()
export class InProcessTransport implements Transport {
  readonly name = 'in-process';
  private readonly subscriptions: TransportSubscription[] = [];
  private readonly inFlight = new Map<string, number>();
  private rejectAll?: (error: Error) => void;
  // Settles only when shutdown gives up on the deliveries in flight (see `abandon`).
  private readonly abandoned = new Promise<never>((_, reject) => (this.rejectAll = reject));

  constructor(@Optional() private readonly topology?: MessagingTopology) {
    this.abandoned.catch(() => undefined);
  }

  subscribe(subscription: TransportSubscription): void {
    this.subscriptions.push(subscription);
  }

  async publish(envelopes: readonly EventEnvelope[]): Promise<void> {
    await this.topology?.assertMayDelete();
    const deliveries: Promise<void>[] = [];
    for (const subscription of this.subscriptions) {
      const wanted = envelopes.filter((envelope) => subscription.eventTypes.includes(envelope.type));
      if (wanted.length > 0) deliveries.push(this.track(subscription.subscriber, subscription.deliver(wanted)));
    }
    // Wait for all before failing, so no delivery is still running when the relay rolls back;
    // unless shutdown abandoned them: then the relay rolls back at once and its loop ends.
    const results = await Promise.race([Promise.allSettled(deliveries), this.abandoned]);
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Subscribers with a delivery in progress. */
  busy(): string[] {
    return [...this.inFlight.keys()];
  }

  /**
   * Shutdown's budget is spent: every publish in flight (and any later one) rejects, so the
   * relay rolls its claims back and its loops end; the handlers still running are left behind.
   */
  abandon(): void {
    this.rejectAll?.(new ShutdownTimeoutError('delivery abandoned at shutdown: the claim rolls back and is delivered again after restart'));
  }

  async start(): Promise<void> {
    // Nothing to connect: subscribers are called directly.
  }

  async stop(): Promise<void> {
    // Deliveries belong to relay batches, which the relay drains before it stops.
  }

  private track(subscriber: string, delivery: Promise<void>): Promise<void> {
    this.inFlight.set(subscriber, (this.inFlight.get(subscriber) ?? 0) + 1);
    return delivery.finally(() => {
      const left = (this.inFlight.get(subscriber) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(subscriber);
      else this.inFlight.set(subscriber, left);
    });
  }
}

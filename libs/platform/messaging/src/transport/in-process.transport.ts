import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from '../events/event-envelope';
import type { Transport, TransportSubscription } from './transport';

/**
 * Delivers relayed events to the subscribers hosted in this process. Subscribers run side by
 * side, so a slow or failing one does not hold back the others (a failing one parks its event
 * and returns). With several app instances each relay delivers what it claimed, so the
 * instances share the load like a consumer group; best-effort subscribers see only the events
 * their own process relayed (true broadcast needs a broker transport).
 */
@Injectable()
export class InProcessTransport implements Transport {
  readonly name = 'in-process';
  private readonly subscriptions: TransportSubscription[] = [];

  subscribe(subscription: TransportSubscription): void {
    this.subscriptions.push(subscription);
  }

  async publish(envelopes: readonly EventEnvelope[]): Promise<void> {
    const deliveries: Promise<void>[] = [];
    for (const subscription of this.subscriptions) {
      const wanted = envelopes.filter((envelope) => subscription.eventTypes.includes(envelope.type));
      if (wanted.length > 0) deliveries.push(subscription.deliver(wanted));
    }
    // Wait for all before failing, so no delivery is still running when the relay rolls back.
    const results = await Promise.allSettled(deliveries);
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  async start(): Promise<void> {
    // Nothing to connect: subscribers are called directly.
  }

  async stop(): Promise<void> {
    // Deliveries belong to relay batches, which the relay drains before it stops.
  }
}

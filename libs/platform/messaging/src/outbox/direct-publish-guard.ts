import { Injectable, Optional } from '@nestjs/common';
import { EventBus, type IEvent, type IEventPublisher } from '@nestjs/cqrs';
import { IntegrationEvent } from '../events/integration-event';
import { DirectPublishError } from '../messaging.errors';

/**
 * When the app has a CQRS `EventBus`, refuses integration events published on it: they would
 * skip the outbox, and nothing would deliver them. Not on any event's path (the relay hands
 * events straight to the transport); it only wraps the bus's publisher so the mistake fails at
 * the call with `DirectPublishError`. Other events pass through unchanged.
 */
@Injectable()
export class DirectPublishGuard {
  private installed?: { guard: IEventPublisher; previous: IEventPublisher };

  constructor(@Optional() private readonly eventBus?: EventBus) {}

  install(): void {
    const bus = this.eventBus;
    if (!bus || this.installed) return;
    const previous = bus.publisher;
    const guard: IEventPublisher = {
      publish: (event, dispatcherContext, asyncContext) => {
        refuseIntegrationEvents([event]);
        return previous.publish(event, dispatcherContext, asyncContext);
      },
      publishAll: (events, dispatcherContext, asyncContext) => {
        refuseIntegrationEvents(events);
        if (previous.publishAll) return previous.publishAll(events, dispatcherContext, asyncContext);
        return events.map((event) => previous.publish(event, dispatcherContext, asyncContext));
      },
    };
    bus.publisher = guard;
    this.installed = { guard, previous };
  }

  uninstall(): void {
    if (this.installed && this.eventBus?.publisher === this.installed.guard) this.eventBus.publisher = this.installed.previous;
    this.installed = undefined;
  }
}

function refuseIntegrationEvents(events: readonly IEvent[]): void {
  const direct = events.find((event) => event instanceof IntegrationEvent);
  if (!direct) return;
  const type = (direct.constructor as { type?: string }).type;
  throw new DirectPublishError(`integration event ${type ?? ''} published on the EventBus directly: append it to the Outbox in the transaction that causes it`, { type });
}

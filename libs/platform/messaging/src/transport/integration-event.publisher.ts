import { Inject, Injectable, Optional } from '@nestjs/common';
import { EventBus, type IEvent, type IEventPublisher } from '@nestjs/cqrs';
import { ConfigurationError } from '@modulith/core';
import { IntegrationEvent } from '../events/integration-event';
import { DirectPublishError } from '../messaging.errors';
import { ObserverDispatcher } from '../observers/observer-dispatcher';
import { relayedEnvelope } from './relayed-events';
import { TRANSPORT, type Transport } from './transport';

/**
 * Takes the CQRS `EventBus`'s publisher hook. Events the relay publishes (out of the outbox)
 * go to the transport, then to the plain `@EventsHandler`s of this process through bounded
 * queues (`ObserverDispatcher`), not into the bus's unbounded stream. Publishing an integration
 * event on the bus directly is refused: it would skip the outbox and could be lost. Other events
 * pass through to the bus's previous publisher.
 */
@Injectable()
export class IntegrationEventPublisher implements IEventPublisher {
  private previous?: IEventPublisher;

  constructor(
    @Inject(TRANSPORT) private readonly transport: Transport,
    private readonly observers: ObserverDispatcher,
    @Optional() private readonly eventBus?: EventBus,
  ) {}

  install(): void {
    const bus = this.bus();
    if (bus.publisher === this) return;
    this.previous = bus.publisher;
    bus.publisher = this;
  }

  uninstall(): void {
    if (this.eventBus?.publisher === this && this.previous) this.eventBus.publisher = this.previous;
  }

  /**
   * Publishes events rebuilt from outbox rows on the bus; resolves once the transport has taken
   * them. Refuses if someone replaced the bus's publisher: the relay would delete rows that no
   * transport received.
   */
  async relay(events: IntegrationEvent[]): Promise<void> {
    const bus = this.bus();
    if (bus.publisher !== this) throw new Error('the EventBus publisher was replaced: refusing to relay (nothing is deleted)');
    await bus.publishAll(events);
  }

  publish<T extends IEvent>(event: T, dispatcherContext?: unknown, asyncContext?: unknown): unknown {
    return this.publishAll([event], dispatcherContext, asyncContext);
  }

  publishAll<T extends IEvent>(events: T[], dispatcherContext?: unknown, asyncContext?: unknown): unknown {
    const envelopes = events.map(relayedEnvelope);
    const relayed = envelopes.filter((envelope) => envelope !== undefined);
    if (relayed.length > 0 && relayed.length === events.length) {
      return this.transport.publish(relayed).then(() => this.observers.dispatch(relayed));
    }
    const direct = events.find((event, index) => event instanceof IntegrationEvent && !envelopes[index]);
    if (direct || relayed.length > 0) {
      const type = (direct?.constructor as { type?: string } | undefined)?.type;
      throw new DirectPublishError(
        `integration event ${type ?? ''} published on the EventBus directly: append it to the Outbox in the transaction that causes it`,
        { type },
      );
    }
    return this.forward(events, dispatcherContext, asyncContext);
  }

  private bus(): EventBus {
    if (!this.eventBus) {
      throw new ConfigurationError('MessagingModule needs the CQRS EventBus: import CqrsModule.forRoot() once, in the composition root');
    }
    return this.eventBus;
  }

  private forward(events: IEvent[], dispatcherContext: unknown, asyncContext: unknown): unknown {
    const previous = this.previous;
    if (!previous) return undefined;
    // The bus's signature types asyncContext as its AsyncContext class; we only pass it through.
    const context = asyncContext as Parameters<IEventPublisher['publish']>[2];
    if (previous.publishAll) return previous.publishAll(events, dispatcherContext, context);
    return events.map((event) => previous.publish(event, dispatcherContext, context));
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { IEventHandler } from '@nestjs/cqrs';
import type { EventEnvelope } from '../events/event-envelope';
import { IntegrationEvent, type IntegrationEventClass } from '../events/integration-event';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { BoundedObserver } from './bounded-observer';

// @nestjs/cqrs keeps the classes an @EventsHandler handles under this key (not exported from its index).
const EVENTS_HANDLER_METADATA = '__eventsHandler__';

/**
 * Calls the plain `@EventsHandler`s of integration event classes with the events this process
 * relays, each through its own `BoundedObserver` (`OBSERVER_QUEUE_CAPACITY`,
 * `OBSERVER_CONCURRENCY`). Relayed events are not pushed into the CQRS EventBus's subject: its
 * `mergeMap` would start a call per event with no bound (20,000 events, 20,000 calls in flight).
 * Sagas therefore do not see relayed integration events; subscribe with `@OnIntegrationEvent`.
 */
@Injectable()
export class ObserverDispatcher {
  private readonly logger = new Logger('Messaging:Observers');
  private observers: BoundedObserver[] = [];
  private byType = new Map<string, BoundedObserver[]>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metrics: MessagingMetrics,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  /** Finds the observers among the providers and starts their loops. */
  start(): void {
    if (this.observers.length > 0) return;
    for (const wrapper of this.discovery.getProviders()) {
      const metatype = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      const handled = metatype ? (Reflect.getMetadata(EVENTS_HANDLER_METADATA, metatype) as unknown[] | undefined) : undefined;
      const classes = (handled ?? []).filter(isIntegrationEventClass);
      if (classes.length === 0) continue;
      if (!wrapper.isDependencyTreeStatic() || !wrapper.instance) {
        this.logger.warn(`${metatype?.name}: request-scoped @EventsHandlers are not called with relayed integration events; use a singleton`);
        continue;
      }
      for (const eventClass of classes) {
        const observer = new BoundedObserver(
          `observer:${metatype?.name}`,
          eventClass,
          wrapper.instance as IEventHandler,
          this.metrics,
          this.config.observerQueueCapacity,
          this.config.observerConcurrency,
        );
        this.observers.push(observer);
        this.byType.set(eventClass.type, [...(this.byType.get(eventClass.type) ?? []), observer]);
        observer.start();
      }
    }
  }

  /** The event types some observer here takes. */
  types(): readonly string[] {
    return [...this.byType.keys()];
  }

  /** Hands relayed envelopes to the observers of their types; never waits for a call. */
  dispatch(envelopes: readonly EventEnvelope[]): void {
    if (this.byType.size === 0) return;
    for (const envelope of envelopes) for (const observer of this.byType.get(envelope.type) ?? []) observer.offer(envelope);
  }

  /** Observers with a call still in progress. */
  busy(): string[] {
    return [...new Set(this.observers.filter((observer) => observer.busy).map((observer) => observer.name))];
  }

  /** The observers, for metrics and tests. */
  list(): readonly BoundedObserver[] {
    return this.observers;
  }

  async stop(): Promise<void> {
    await Promise.all(this.observers.map((observer) => observer.stop()));
  }
}

function isIntegrationEventClass(candidate: unknown): candidate is IntegrationEventClass {
  return typeof candidate === 'function' && candidate.prototype instanceof IntegrationEvent;
}

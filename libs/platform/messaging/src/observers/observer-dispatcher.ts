import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ConfigurationError } from '@modulith/core';
import type { EventEnvelope } from '../events/event-envelope';
import { IntegrationEvent, type IntegrationEventClass } from '../events/integration-event';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { BoundedObserver } from './bounded-observer';
import { OBSERVATION_METADATA, OBSERVER_CLASS_METADATA } from './observe-integration-event.decorator';

// @nestjs/cqrs keeps the classes an @EventsHandler handles under this key (not exported from its index).
const EVENTS_HANDLER_METADATA = '__eventsHandler__';

/**
 * Calls the `@ObserveIntegrationEvent` methods of this process with the events its relay hands
 * on, each through its own `BoundedObserver` (`OBSERVER_QUEUE_CAPACITY`, `OBSERVER_CONCURRENCY`):
 * the relay never waits for an observer. Relayed events never enter the CQRS EventBus, so a
 * plain `@EventsHandler` of an integration event class would never be called: start-up refuses
 * one, naming it.
 */
@Injectable()
export class ObserverDispatcher {
  private readonly logger = new Logger('Messaging:Observers');
  private observers: BoundedObserver[] = [];
  private byType = new Map<string, BoundedObserver[]>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly metrics: MessagingMetrics,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  /**
   * Finds the observers among the providers and starts their loops. Throws `ConfigurationError`
   * for a plain `@EventsHandler` of an integration event class.
   */
  start(): void {
    if (this.observers.length > 0) return;
    for (const wrapper of this.discovery.getProviders()) {
      const metatype = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!metatype) continue;
      assertNoEventsHandler(metatype);
      if (!Reflect.getMetadata(OBSERVER_CLASS_METADATA, metatype)) continue;
      if (!wrapper.isDependencyTreeStatic() || !wrapper.instance) {
        this.logger.warn(`${metatype.name}: a request-scoped provider cannot observe integration events; use a singleton`);
        continue;
      }
      const instance = wrapper.instance as Record<string, (event: IntegrationEvent) => unknown>;
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const eventClass = Reflect.getMetadata(OBSERVATION_METADATA, instance[method]) as IntegrationEventClass | undefined;
        if (!eventClass) continue;
        const { observerQueueCapacity: capacity, observerConcurrency: concurrency } = this.config;
        this.add(new BoundedObserver(`observer:${metatype.name}`, eventClass, (event) => instance[method](event), this.metrics, capacity, concurrency));
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

  private add(observer: BoundedObserver): void {
    this.observers.push(observer);
    this.byType.set(observer.eventClass.type, [...(this.byType.get(observer.eventClass.type) ?? []), observer]);
    observer.start();
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

/** A plain CQRS handler of a relayed event would silently never run: refuse it, naming the fix. */
function assertNoEventsHandler(metatype: new (...args: never[]) => unknown): void {
  const handled = (Reflect.getMetadata(EVENTS_HANDLER_METADATA, metatype) as unknown[] | undefined) ?? [];
  const integration = handled.find((candidate) => typeof candidate === 'function' && candidate.prototype instanceof IntegrationEvent) as IntegrationEventClass | undefined;
  if (integration) {
    throw new ConfigurationError(
      `${metatype.name} is an @EventsHandler of the integration event ${integration.name}: relayed events do not go through the CQRS EventBus; use @ObserveIntegrationEvent(${integration.name}) on a method (or @OnIntegrationEvent for an effect that must happen)`,
      { provider: metatype.name, eventType: integration.type },
    );
  }
}

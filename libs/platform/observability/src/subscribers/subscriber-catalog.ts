import { Inject, Injectable, Optional, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { IntegrationEventClass } from '@modulith/messaging';
import { MODULE_NAMES } from '../logging/module-log-context.interceptor';

/** One `@OnIntegrationEvent` method hosted in this process: who consumes what, from whom. */
export interface SubscriberInfo {
  /** The subscriber's name as the messaging platform records it, e.g. `ledger.apply-transfers`. */
  subscriber: string;
  /** The consuming module. */
  module: string;
  eventType: string;
  /** The publishing module: the first segment of the event type (`ingestion.transfer-ingested`). */
  source: string;
  delivery: 'durable' | 'best-effort';
  /** @internal the provider and method, for instrumentation */
  instance: object;
  method: string;
}

interface SubscriptionMetadata {
  eventClass: IntegrationEventClass;
  mode: 'single' | 'batch' | 'best-effort';
  name?: string;
}

// The messaging platform keeps its decorator's metadata under a private symbol; it is found by
// its description. Stopgap until the platform exports its subscriber list (see this library's
// README): the catalog test fails if the key ever changes, so this cannot break silently.
const SUBSCRIPTION_KEY_DESCRIPTION = 'modulith:integration-event-subscription';

export function subscriptionOf(method: unknown): SubscriptionMetadata | undefined {
  if (typeof method !== 'function') return undefined;
  for (const key of Reflect.getOwnMetadataKeys(method)) {
    if (typeof key === 'symbol' && key.description === SUBSCRIPTION_KEY_DESCRIPTION) return Reflect.getOwnMetadata(key, method);
  }
  return undefined;
}

/** The event subscribers hosted in this process, found once, after every module is built. */
@Injectable()
export class SubscriberCatalog {
  private found?: SubscriberInfo[];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Optional() @Inject(MODULE_NAMES) private readonly moduleNames: ReadonlyMap<Type, string> = new Map(),
  ) {}

  get subscribers(): readonly SubscriberInfo[] {
    this.found ??= this.discover();
    return this.found;
  }

  /** The consuming module of a subscriber, by its name. */
  moduleOf(subscriber: string): string {
    return this.subscribers.find((info) => info.subscriber === subscriber)?.module ?? subscriber.split('.')[0];
  }

  private discover(): SubscriberInfo[] {
    const found: SubscriberInfo[] = [];
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const metadata = subscriptionOf(prototype[method]);
        if (!metadata) continue;
        const host = wrapper.host?.metatype as Type | undefined;
        const module = (host && this.moduleNames.get(host)) ?? metadata.name?.split('.')[0] ?? host?.name ?? 'unknown';
        const eventType = metadata.eventClass.type;
        found.push({
          subscriber: metadata.name ?? `${module}.${instance.constructor.name}.${method}`,
          module,
          eventType,
          source: eventType.split('.')[0],
          delivery: metadata.mode === 'best-effort' ? 'best-effort' : 'durable',
          instance,
          method,
        });
      }
    }
    return found;
  }
}

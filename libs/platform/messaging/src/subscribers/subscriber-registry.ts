import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ConfigurationError } from '@modulith/core';
import { eventCodec } from '../events/event-schema';
import type { IntegrationEventClass } from '../events/integration-event';
import { MessagingModuleRegistration } from './messaging-module-registration';
import { SUBSCRIBER_CLASS_METADATA, SUBSCRIPTION_METADATA, type SubscriptionMetadata } from './on-integration-event.decorator';
import type { SubscriberDefinition } from './subscriber-definition';

type ProviderWrapper = ReturnType<DiscoveryService['getProviders']>[number];
type HostModule = NonNullable<ProviderWrapper['host']>;

/** Finds every `@OnIntegrationEvent` method among the providers of the modules loaded here. */
@Injectable()
export class SubscriberRegistry {
  private found?: SubscriberDefinition[];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  get definitions(): readonly SubscriberDefinition[] {
    this.found ??= this.discover();
    return this.found;
  }

  /** Event classes known in this process, by type: what relayed events are rebuilt as. */
  eventClasses(): Map<string, IntegrationEventClass> {
    return new Map(this.definitions.map((definition) => [definition.eventClass.type, definition.eventClass]));
  }

  private discover(): SubscriberDefinition[] {
    const definitions: SubscriberDefinition[] = [];
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      if (!Reflect.getMetadata(SUBSCRIBER_CLASS_METADATA, instance.constructor)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const metadata = Reflect.getMetadata(SUBSCRIPTION_METADATA, prototype[method] as object) as SubscriptionMetadata | undefined;
        if (!metadata) continue;
        if (!wrapper.isDependencyTreeStatic()) {
          throw new ConfigurationError(`${instance.constructor.name}.${method}: event subscribers must be singleton providers`, {
            provider: instance.constructor.name,
          });
        }
        // Compiles the event's validator now and fails start-up, naming the event, on a gap in its upcasters.
        eventCodec(metadata.eventClass);
        const registration = registrationOf(wrapper.host, instance.constructor.name);
        if (metadata.mode !== 'best-effort' && registration.schema === undefined) {
          throw new ConfigurationError(
            `${instance.constructor.name}.${method} is a durable subscriber, but module ${registration.module} has no schema for its inbox (schema: false): give the module a schema, or subscribe with { delivery: 'best-effort' }`,
            { provider: instance.constructor.name, module: registration.module },
          );
        }
        definitions.push({
          subscriber: metadata.name ?? `${registration.module}.${instance.constructor.name}.${method}`,
          module: registration.module,
          // A best-effort subscriber keeps no inbox: a module without a schema names none.
          schema: registration.schema ?? '',
          eventClass: metadata.eventClass,
          mode: metadata.mode,
          batch: metadata.batch,
          timeoutMs: metadata.timeoutMs,
          deadLetteredKey: metadata.deadLetteredKey ?? 'hold',
          concurrency: metadata.concurrency,
          instance,
          method,
        });
      }
    }
    const duplicate = definitions.find((definition, index) => definitions.findIndex((other) => other.subscriber === definition.subscriber) !== index);
    if (duplicate) {
      throw new ConfigurationError(`two subscribers are named ${duplicate.subscriber}: give one a distinct { name }`, { subscriber: duplicate.subscriber });
    }
    return definitions;
  }
}

/** The `MessagingModule.forModule` registration visible from the provider's module. */
function registrationOf(host: HostModule | undefined, provider: string): MessagingModuleRegistration['options'] {
  for (const module of host ? [host, ...host.imports] : []) {
    const registration: unknown = module.providers.get(MessagingModuleRegistration)?.instance;
    if (registration instanceof MessagingModuleRegistration) return registration.options;
  }
  throw new ConfigurationError(
    `${provider} subscribes to integration events, but its module does not import MessagingModule.forModule(definition)`,
    { provider },
  );
}

import 'reflect-metadata';
import type { DynamicModule, Provider, Type } from '@nestjs/common';
import type { DeclaredSubscriber } from '../messaging.config';
import { MessagingModuleRegistration } from '../subscribers/messaging-module-registration';
import { SUBSCRIBER_CLASS_METADATA, SUBSCRIPTION_METADATA, type SubscriptionMetadata } from '../subscribers/on-integration-event.decorator';

type ModuleImport = Type | DynamicModule | Promise<DynamicModule> | { forwardRef: () => unknown };

/**
 * The name (as given to `MessagingModule.forModule`) of a Nest module that declares at least one
 * durable `@OnIntegrationEvent` subscriber among its own providers, read from its decorators
 * without instantiating anything; undefined when it has none. A composition root passes these
 * for every module of the deployment, loaded here or not, as `declaredDurableModules`, so a
 * process relaying in process refuses to start without them from the very first deployment,
 * before any of them ever ran (see the topology rules).
 */
export function declaredDurableModule(module: Type | DynamicModule): string | undefined {
  const { providers, imports } = ownMetadata(module);
  const durable = providers.some((provider) => hasDurableSubscription(providerClass(provider)));
  if (!durable) return undefined;
  for (const imported of imports) {
    const registration = registrationIn(imported);
    if (registration) return registration.options.module;
  }
  return undefined;
}

/**
 * The names of the durable subscribers a Nest module declares among its own providers (as the
 * subscriber registry names them: the `name` option, else `<module>.<Class>.<method>`), read
 * from decorators without instantiating anything. A composition root passes them for every
 * module of the deployment as `declaredDurableSubscribers`: a subscriber counts as born when it
 * is first declared, so one whose process starts later still gets every keyed event appended
 * since (see `EventLog.register`).
 */
export function declaredDurableSubscribers(module: Type | DynamicModule): DeclaredSubscriber[] {
  const { providers, imports } = ownMetadata(module);
  const registration = imports.map(registrationIn).find((found) => found !== undefined);
  if (!registration) return [];
  return providers.flatMap((provider) => {
    const type = providerClass(provider);
    return durableSubscriptions(type).map(({ method, metadata }) => ({
      subscriber: metadata.name ?? `${registration.options.module}.${type?.name}.${method}`,
      eventType: metadata.eventClass.type,
    }));
  });
}

function ownMetadata(module: Type | DynamicModule): { providers: Provider[]; imports: ModuleImport[] } {
  const type = 'module' in module ? module.module : module;
  const dynamic = 'module' in module ? module : undefined;
  return {
    providers: [...((Reflect.getMetadata('providers', type) as Provider[] | undefined) ?? []), ...(dynamic?.providers ?? [])],
    imports: [...((Reflect.getMetadata('imports', type) as ModuleImport[] | undefined) ?? []), ...((dynamic?.imports as ModuleImport[] | undefined) ?? [])],
  };
}

function registrationIn(imported: ModuleImport): MessagingModuleRegistration | undefined {
  if (typeof imported !== 'object' || imported === null || !('module' in imported)) return undefined;
  for (const provider of imported.providers ?? []) {
    if (typeof provider === 'object' && 'useValue' in provider && provider.useValue instanceof MessagingModuleRegistration) return provider.useValue;
  }
  return undefined;
}

function providerClass(provider: Provider): Type | undefined {
  if (typeof provider === 'function') return provider;
  return 'useClass' in provider ? provider.useClass : undefined;
}

function hasDurableSubscription(type: Type | undefined): boolean {
  return durableSubscriptions(type).length > 0;
}

function durableSubscriptions(type: Type | undefined): Array<{ method: string; metadata: SubscriptionMetadata }> {
  if (!type || !Reflect.getMetadata(SUBSCRIBER_CLASS_METADATA, type)) return [];
  const found: Array<{ method: string; metadata: SubscriptionMetadata }> = [];
  const seen = new Set<string>();
  // Up the prototype chain, as discovery does: a subscriber may inherit its method.
  for (let prototype = type.prototype as object | null; prototype && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype)) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const method = Object.getOwnPropertyDescriptor(prototype, name)?.value;
      const metadata = typeof method === 'function' ? (Reflect.getMetadata(SUBSCRIPTION_METADATA, method) as SubscriptionMetadata | undefined) : undefined;
      if (metadata && metadata.mode !== 'best-effort') found.push({ method: name, metadata });
    }
  }
  return found;
}

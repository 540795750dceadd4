import type { Type } from '@nestjs/common';
import { ConfigurationError } from '@modulith/core';
import { declaredDurableModule, declaredDurableSubscribers, type DeclaredSubscriber } from '@modulith/messaging/operator';
import { AnalyticsModule } from '@modulith/analytics';
import { IngestionModule } from '@modulith/ingestion';
import { LedgerModule } from '@modulith/ledger';
import { NotificationsModule } from '@modulith/notifications';

/** Every business module this app can run, by the name `MODULES` uses. */
export const MODULE_CATALOG: Readonly<Record<string, Type>> = {
  ingestion: IngestionModule,
  ledger: LedgerModule,
  analytics: AnalyticsModule,
  notifications: NotificationsModule,
};

/** The modules to load here: the ones named, or all of them. */
export function selectModules(names: readonly string[] | undefined): { name: string; module: Type }[] {
  const selected = names ?? Object.keys(MODULE_CATALOG);
  return selected.map((name) => {
    const module = MODULE_CATALOG[name];
    if (!module) {
      throw new ConfigurationError(`MODULES names unknown module "${name}"; known: ${Object.keys(MODULE_CATALOG).join(', ')}`, {
        variable: 'MODULES',
      });
    }
    return { name, module };
  });
}

/**
 * The catalog's modules that have durable event subscribers, by their messaging name, whether
 * `MODULES` loads them here or not: with the in-process transport a relaying process must host
 * them all, or its relay would delete events they never saw (it then refuses to start).
 */
export function declaredDurableModules(): string[] {
  return Object.values(MODULE_CATALOG).flatMap((module) => declaredDurableModule(module) ?? []);
}

/**
 * Every durable subscriber of the catalog's modules, loaded here or not: registered at start,
 * so a subscriber's keyed events count from the first deployment that declared it, not from its
 * own process's first start.
 */
export function declaredSubscribers(): DeclaredSubscriber[] {
  return Object.values(MODULE_CATALOG).flatMap((module) => declaredDurableSubscribers(module));
}

import { ConfigurableModuleBuilder } from '@nestjs/common';
import { resolveIntOptions } from '@modulith/core';

/** Limits that keep one slow WebSocket client from costing memory or slowing anyone else. */
export interface NotificationsConfig {
  /** Messages waiting per connection; beyond it the oldest is dropped and counted. */
  queueSize: number;
  /** Bytes the socket may hold unsent before we stop writing to it and let the queue absorb. */
  maxBufferedBytes: number;
  /** Accounts one connection may follow. */
  maxSubscriptions: number;
  /** Client commands one connection may have waiting for their answer (a subscribe waits for balances); beyond it a command is refused. */
  maxPendingCommands: number;
  /** Longest a `subscribe` may take to read the current balances (ms), queueing for a read included; then it is refused. */
  snapshotTimeoutMs: number;
  /**
   * Live changes one connection holds while the balances of its new accounts are read; past it
   * they are discarded and the balances read again (a later read covers them).
   */
  snapshotBufferSize: number;
  /** Balance reads (`GetBalanceQuery`, one per account) running at once in this process, over all connections. */
  snapshotConcurrency: number;
}

export const NOTIFICATIONS_CONFIG = Symbol('NOTIFICATIONS_CONFIG');

/** What a host app gives `NotificationsModule.forRoot`: any of the limits, each defaulted here when absent. */
export type NotificationsOptions = Partial<NotificationsConfig>;

const MAX = Number.MAX_SAFE_INTEGER;

/** Defaults and bounds of the limits (in parentheses in the README: the reference app's variables). */
const RULES = {
  queueSize: { default: 1000, min: 1, max: MAX },
  maxBufferedBytes: { default: 1024 * 1024, min: 1024, max: MAX },
  maxSubscriptions: { default: 1000, min: 1, max: MAX },
  maxPendingCommands: { default: 16, min: 1, max: MAX },
  snapshotTimeoutMs: { default: 5000, min: 1, max: MAX },
  snapshotBufferSize: { default: 10_000, min: 1, max: MAX },
  snapshotConcurrency: { default: 8, min: 1, max: MAX },
};

/** Every limit, the default for what is absent; throws `ConfigurationError` naming a bad option. */
export function resolveNotificationsConfig(options: NotificationsOptions = {}): NotificationsConfig {
  return resolveIntOptions('NotificationsModule', RULES, options);
}

/**
 * `NotificationsModule.forRoot(options)` / `forRootAsync({ imports, useFactory, inject })`, from
 * Nest's own builder. Importing the bare `NotificationsModule` takes every default.
 */
export const {
  ConfigurableModuleClass: ConfigurableNotificationsModule,
  MODULE_OPTIONS_TOKEN: NOTIFICATIONS_OPTIONS,
} = new ConfigurableModuleBuilder<NotificationsOptions>({ moduleName: 'Notifications' }).setClassMethodName('forRoot').build();

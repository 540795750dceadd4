import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { appliedMigrations, Database } from '@modulith/database';
import { MessagingTopology } from '@modulith/messaging/operator';
import { transportLosses } from './transport-losses';
import { findTransport, isBrokerTransport } from './transport-probe';

export const READINESS_OPTIONS = Symbol('READINESS_OPTIONS');

export interface ReadinessOptions {
  /** Whether this process is meant to run the outbox relay (`RELAY_ENABLED`). */
  relayEnabled: boolean;
  /** Longest wait for the database or the broker before a check counts as down. */
  timeoutMs: number;
}

/**
 * The checks behind `/ready`, as terminus indicators: the database answers, every loaded
 * module's migrations are applied, the broker answers (when the transport is one; with what it
 * lost so far, see `transportLosses`), and the relay runs (when this process should run it).
 */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly database: Database,
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    @Inject(READINESS_OPTIONS) private readonly options: ReadinessOptions,
  ) {}

  /** Every check this process needs, ready to hand to `HealthCheckService.check`. */
  checks(): (() => Promise<HealthIndicatorResult>)[] {
    const checks = [() => this.databaseReachable(), () => this.migrationsApplied(), () => this.relayRunning(), () => this.topologySafe()];
    if (isBrokerTransport(findTransport(this.moduleRef))) checks.push(() => this.brokerReachable());
    return checks;
  }

  async databaseReachable(key = 'database'): Promise<HealthIndicatorResult> {
    const check = this.indicators.check(key);
    const started = performance.now();
    try {
      await this.withTimeout(this.database.dataSource.query('SELECT 1'));
      return check.up({ responseTimeMs: Math.round(performance.now() - started) });
    } catch (error) {
      return check.down({ message: (error as Error).message });
    }
  }

  async migrationsApplied(key = 'migrations'): Promise<HealthIndicatorResult> {
    const check = this.indicators.check(key);
    try {
      const pending: Record<string, string[]> = {};
      for (const schema of this.database.schemas) {
        const applied = new Set(await this.withTimeout(appliedMigrations(this.database.dataSource, schema.schema)));
        const missing = schema.migrations.map((Migration) => new Migration().name ?? Migration.name).filter((name) => !applied.has(name));
        if (missing.length > 0) pending[schema.module] = missing;
      }
      const modules = this.database.schemas.map((schema) => schema.module);
      return Object.keys(pending).length === 0 ? check.up({ modules }) : check.down({ message: 'migrations are pending: run "migrate"', pending });
    } catch (error) {
      return check.down({ message: (error as Error).message });
    }
  }

  async relayRunning(key = 'relay'): Promise<HealthIndicatorResult> {
    const check = this.indicators.check(key);
    if (!this.options.relayEnabled) return check.up({ state: 'disabled' });
    const running = this.relayState();
    if (running === undefined) return check.down({ message: 'the relay is enabled but was not found in this process' });
    return running ? check.up({ state: 'running' }) : check.down({ state: 'stopped', message: 'the relay is not running' });
  }

  /** Down while this process cannot run beside the others on its database without losing events (the message names the fix). */
  async topologySafe(key = 'topology'): Promise<HealthIndicatorResult> {
    const check = this.indicators.check(key);
    let topology: MessagingTopology;
    try {
      topology = this.moduleRef.get(MessagingTopology, { strict: false });
    } catch {
      return check.up({ checked: false });
    }
    const status = topology.status();
    return status.ok ? check.up({ instance: status.instance }) : check.down({ message: status.problems.join('; ') });
  }

  async brokerReachable(key = 'transport'): Promise<HealthIndicatorResult> {
    const check = this.indicators.check(key);
    const transport = findTransport(this.moduleRef);
    // A ping if the transport has one; else its backlog query, which also needs the broker.
    const ask = transport?.ping?.bind(transport) ?? transport?.backlog?.bind(transport);
    if (!transport || !ask) return check.up({ name: transport?.name, checked: false, message: 'the transport offers no ping() or backlog()' });
    try {
      await this.withTimeout(ask());
      // Entries the broker lost are reported, not pending; they do not make this instance unready (re-drive them).
      const losses = transportLosses(transport);
      return check.up({ name: transport.name, ...(losses && { lost: losses }) });
    } catch (error) {
      return check.down({ name: transport.name, message: (error as Error).message });
    }
  }

  // The platform does not export its relay; its provider is found by shape. Stopgap until
  // messaging exposes the relay's state (see this library's README).
  private relayState(): boolean | undefined {
    const wrapper = this.discovery
      .getProviders()
      .find((candidate) => candidate.metatype?.name === 'Relay' && typeof (candidate.instance as { isRunning?: unknown })?.isRunning === 'boolean');
    return wrapper ? (wrapper.instance as { isRunning: boolean }).isRunning : undefined;
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Gauge } from 'prom-client';
import { findTransport, isBrokerTransport } from '../health/transport-probe';
import { METRIC_PREFIX, MetricsRegistry } from './metrics-registry';

/**
 * What waits in a broker, read on scrape; nothing for the in-process transport.
 * `modulith_transport_backlog_events{transport}`: events published but not yet handled by every
 * consumer group (`backlog()`). `modulith_transport_pending_messages{transport,group}`: messages
 * delivered to each consumer group and not yet acknowledged (`pendingByGroup()`), when offered.
 */
@Injectable()
export class TransportExporter implements OnModuleInit {
  private readonly logger = new Logger('Metrics');

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const transport = findTransport(this.moduleRef);
    if (!isBrokerTransport(transport)) return;
    const logger = this.logger;
    const backlog = transport.backlog?.bind(transport);
    if (backlog) {
      new Gauge({
        name: `${METRIC_PREFIX}transport_backlog_events`,
        help: 'Events published to the broker but not yet handled by every consumer group (read on scrape; NaN when the broker cannot be asked)',
        labelNames: ['transport'] as const,
        registers: [this.registry.registry],
        async collect() {
          this.set({ transport: transport.name }, await backlog().catch(() => Number.NaN));
        },
      });
    }
    const pendingByGroup = transport.pendingByGroup?.bind(transport);
    if (!pendingByGroup) return;
    new Gauge({
      name: `${METRIC_PREFIX}transport_pending_messages`,
      help: 'Messages delivered to a consumer group and not yet acknowledged (e.g. Redis XPENDING), by group (read on scrape)',
      labelNames: ['transport', 'group'] as const,
      registers: [this.registry.registry],
      async collect() {
        try {
          const pending = await pendingByGroup();
          this.reset();
          const entries = pending instanceof Map ? [...pending.entries()] : Object.entries(pending);
          for (const [group, count] of entries) this.set({ transport: transport.name, group }, count);
        } catch (error) {
          logger.warn(`could not read the transport's pending messages: ${(error as Error).message}`);
        }
      },
    });
  }
}

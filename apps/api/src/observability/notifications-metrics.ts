import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { ConnectionRegistry } from '@modulith/notifications';
import { METRIC_PREFIX, MetricsRegistry } from '@modulith/observability';
import { Counter, Gauge } from 'prom-client';

/**
 * The WebSocket fan-out's figures, read on scrape when the notifications module runs here:
 * connections, subscriptions, messages queued for slow clients, and the totals delivered and
 * dropped (bounded per-connection queues drop the oldest on overflow).
 */
@Injectable()
export class NotificationsMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsRegistry,
    @Optional() private readonly connections?: ConnectionRegistry,
  ) {}

  onModuleInit(): void {
    const connections = this.connections;
    if (!connections) return;
    const registers = [this.metrics.registry];
    const gauge = (name: string, help: string, read: (stats: ReturnType<ConnectionRegistry['stats']>) => number) =>
      new Gauge({
        name: `${METRIC_PREFIX}notifications_${name}`,
        help,
        registers,
        collect() {
          this.set(read(connections.stats()));
        },
      });
    // The registry keeps running totals; a counter follows them by the difference since the last scrape.
    const total = (name: string, help: string, read: (stats: ReturnType<ConnectionRegistry['stats']>) => number) => {
      let seen = 0;
      return new Counter({
        name: `${METRIC_PREFIX}notifications_${name}_total`,
        help,
        registers,
        collect() {
          const now = read(connections.stats());
          if (now > seen) this.inc(now - seen);
          seen = now;
        },
      });
    };
    gauge('connections', 'Open WebSocket connections', (stats) => stats.connections);
    gauge('subscriptions', 'Accounts followed, summed over connections', (stats) => stats.subscriptions);
    gauge('queued_messages', 'Messages waiting in per-connection queues', (stats) => stats.queued);
    total('delivered_messages', 'Messages written to WebSocket clients', (stats) => stats.delivered);
    total('dropped_messages', 'Messages dropped because a client queue was full', (stats) => stats.dropped);
  }
}

import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Prefix of every metric this platform defines (the process's default metrics keep their usual names). */
export const METRIC_PREFIX = 'modulith_';

/**
 * The app's own Prometheus registry (never prom-client's global one, so two apps in one process,
 * as in tests, do not collide). It starts with the default process metrics: CPU, resident and
 * heap memory, GC, handles, and event-loop lag (`nodejs_eventloop_lag_*`, sampled by
 * `monitorEventLoopDelay`).
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; gauges read on scrape (the outbox backlog, queues) are collected now. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

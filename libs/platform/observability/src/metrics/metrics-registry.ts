import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Prefix of every metric this platform defines (the process's default metrics keep their usual names). */
export const METRIC_PREFIX = 'modulith_';

/**
 * prom-client's default gauges whose names end in `_total`, which Prometheus keeps for counters
 * (`promtool check metrics` refuses them). Their figures stay: each is the sum over `type` of the
 * gauge of the same name without `_total` (`sum(nodejs_active_handles)`).
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The app's own Prometheus registry (never prom-client's global one, so two apps in one process,
 * as in tests, do not collide). It starts with the default process metrics: CPU, resident and
 * heap memory, GC, handles, and event-loop lag (`nodejs_eventloop_lag_*`, sampled by
 * `monitorEventLoopDelay`), less the three misnamed gauges above.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(name);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; gauges read on scrape (in-memory figures only: queues, the last backlog sample) are collected now. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

import { hostname } from 'node:os';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MessagingMetrics } from '@modulith/messaging/operator';
import { TRANSPORT, type Transport } from '@modulith/messaging/transport';
import { ConnectionRegistry } from '@modulith/notifications';
import { METRIC_PREFIX, MetricsRegistry, ReadinessIndicators, SubscriberCatalog } from '@modulith/observability';
import { LOADED_MODULES } from '../health.controller';
import { OBSERVABILITY_CONFIG, type ObservabilityConfig } from '../observability/observability.config';
import type { FlowEdgeDto, OpsOverviewDto, OpsStateDto, PeerStateDto, PublishedDto } from './ops-state.dto';

const PEER_TIMEOUT_MS = 1500;

/** The figures behind the ops console: read-only, nothing secret, cheap enough to poll each second. */
@Injectable()
export class OpsStateService {
  private readonly startedAt = new Date();

  constructor(
    @Inject(LOADED_MODULES) private readonly modules: string[],
    @Inject(OBSERVABILITY_CONFIG) private readonly config: ObservabilityConfig,
    private readonly messaging: MessagingMetrics,
    private readonly catalog: SubscriberCatalog,
    private readonly metrics: MetricsRegistry,
    private readonly readiness: ReadinessIndicators,
    private readonly moduleRef: ModuleRef,
    @Optional() private readonly connections?: ConnectionRegistry,
  ) {}

  /** This process, and each peer named by OPS_PEERS as it answers. */
  async overview(): Promise<OpsOverviewDto> {
    const [state, peers] = await Promise.all([this.state(), Promise.all(this.config.opsPeers.map((url) => this.peer(url)))]);
    return { ...state, peers };
  }

  async state(): Promise<OpsStateDto> {
    const { relay, subscribers } = this.messaging.counters();
    const counters = new Map(subscribers.map((entry) => [entry.subscriber, entry]));
    const flow: FlowEdgeDto[] = this.catalog.subscribers.map((info) => {
      const seen = counters.get(info.subscriber);
      return {
        source: info.source,
        eventType: info.eventType,
        module: info.module,
        subscriber: info.subscriber,
        delivery: info.delivery,
        handled: seen?.handled ?? 0,
        failures: seen?.failures ?? 0,
        retries: seen?.retriesScheduled ?? 0,
        deadLettered: seen?.deadLettered ?? 0,
        dropped: seen?.dropped ?? 0,
        meanHandlerMs: seen && seen.calls > 0 ? Math.round((seen.durationMsTotal / seen.calls) * 100) / 100 : 0,
      };
    });
    const memory = process.memoryUsage();
    const [backlog, published, relayState] = await Promise.all([
      this.messaging.backlog().catch(() => null),
      this.published(),
      this.readiness.relayRunning(),
    ]);
    return {
      sampledAt: new Date().toISOString(),
      process: {
        id: `${hostname()}:${process.pid}`,
        hostname: hostname(),
        pid: process.pid,
        startedAt: this.startedAt.toISOString(),
        uptimeSeconds: Math.round(process.uptime()),
        modules: this.modules,
        transport: this.transport()?.name ?? 'none',
        relay: String((relayState['relay'] as { state?: string }).state ?? 'unknown'),
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
      },
      flow,
      published,
      relay,
      backlog,
      notifications: this.connections?.stats() ?? null,
    };
  }

  private async published(): Promise<PublishedDto[]> {
    const metric = this.metrics.registry.getSingleMetric(`${METRIC_PREFIX}events_published_total`);
    if (!metric) return [];
    const { values } = await metric.get();
    return values.map((value) => ({ module: String(value.labels['module']), eventType: String(value.labels['event_type']), events: value.value }));
  }

  private transport(): Transport | undefined {
    try {
      return this.moduleRef.get<Transport>(TRANSPORT, { strict: false });
    } catch {
      return undefined;
    }
  }

  private async peer(url: string): Promise<PeerStateDto> {
    try {
      const response = await fetch(`${url}/ops/state?peers=false`, { signal: AbortSignal.timeout(PEER_TIMEOUT_MS) });
      if (!response.ok) return { url, error: `HTTP ${response.status}` };
      return { url, state: (await response.json()) as OpsStateDto };
    } catch (error) {
      return { url, error: (error as Error).message };
    }
  }
}

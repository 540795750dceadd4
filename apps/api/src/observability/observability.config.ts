import { ConfigurationError, envInt, envList } from '@modulith/core';
import { DEFAULT_BACKLOG_READ_TIMEOUT_MS } from '@modulith/observability';

/** Settings of the operator surface: readiness checks and the ops console. */
export interface ObservabilityConfig {
  /** Longest wait for the database or broker before a readiness check counts as down (`READY_TIMEOUT_MS`). */
  readyTimeoutMs: number;
  /** Base URLs of the other processes of this deployment, shown in the ops console (`OPS_PEERS`). */
  opsPeers: string[];
  /** Pause between two background reads of the backlog gauges (`METRICS_BACKLOG_REFRESH_MS`): their longest staleness, plus one read. */
  backlogRefreshMs: number;
  /** Longest one background read of the backlog gauges may take before they show NaN (`METRICS_BACKLOG_READ_TIMEOUT_MS`). */
  backlogReadTimeoutMs: number;
}

export function observabilityConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ObservabilityConfig {
  return {
    readyTimeoutMs: envInt(env, 'READY_TIMEOUT_MS', 2000, 100, 60_000),
    opsPeers: (envList(env, 'OPS_PEERS') ?? []).map(peerUrl),
    backlogRefreshMs: envInt(env, 'METRICS_BACKLOG_REFRESH_MS', 10_000, 50, 3_600_000),
    backlogReadTimeoutMs: envInt(env, 'METRICS_BACKLOG_READ_TIMEOUT_MS', DEFAULT_BACKLOG_READ_TIMEOUT_MS, 50, 600_000),
  };
}

export const OBSERVABILITY_CONFIG = Symbol('OBSERVABILITY_CONFIG');

function peerUrl(value: string): string {
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(value)) {
    throw new ConfigurationError(`OPS_PEERS: "${value}" is not an http(s) base URL`, { variable: 'OPS_PEERS' });
  }
  return value.replace(/\/+$/, '');
}

import { ConfigurationError, envList } from '@modulith/core';

/** Settings of the ops console. */
export interface ObservabilityConfig {
  /** Base URLs of the other processes of this deployment, shown in the ops console (`OPS_PEERS`). */
  opsPeers: string[];
}

export const OBSERVABILITY_CONFIG = Symbol('OBSERVABILITY_CONFIG');

/** `OPS_PEERS`: comma-separated http(s) base URLs; a trailing slash is dropped. */
export function opsPeersFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (envList(env, 'OPS_PEERS') ?? []).map(peerUrl);
}

function peerUrl(value: string): string {
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(value)) {
    throw new ConfigurationError(`OPS_PEERS: "${value}" is not an http(s) base URL`, { variable: 'OPS_PEERS' });
  }
  return value.replace(/\/+$/, '');
}

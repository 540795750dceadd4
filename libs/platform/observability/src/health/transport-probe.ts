import type { ModuleRef } from '@nestjs/core';
import { TRANSPORT, type Transport } from '@modulith/messaging/transport';

/**
 * What a broker transport may offer to operators, beyond the `Transport` contract. A Redis
 * Streams transport that implements these gets a readiness check and a pending-messages gauge
 * with no change here.
 */
export interface TransportProbe {
  /** Resolves when the broker answers (e.g. Redis PING); rejects when it is unreachable. */
  ping?(): Promise<unknown>;
  /** Events published but not yet handled by every consumer group; rejects when the broker cannot be asked. */
  backlog?(): Promise<number>;
  /** Messages delivered to each consumer group but not yet acknowledged (Redis XPENDING). */
  pendingByGroup?(): Promise<Record<string, number> | ReadonlyMap<string, number>>;
}

/** The transport chosen for this process, or undefined where messaging is not loaded. */
export function findTransport(moduleRef: ModuleRef): (Transport & TransportProbe) | undefined {
  try {
    return moduleRef.get<Transport & TransportProbe>(TRANSPORT, { strict: false });
  } catch {
    return undefined;
  }
}

/** The in-process transport has nothing to reach or to wait on. */
export function isBrokerTransport(transport: Transport | undefined): transport is Transport & TransportProbe {
  return transport !== undefined && transport.name !== 'in-process';
}

/** What a broker transport's `stats()` may report about entries it lost (Redis Streams does). */
interface TransportLossStats {
  lost?: number;
  lostBestEffort?: number;
  groupsLost?: number;
  streamsLost?: number;
  streamsOverCap?: readonly { stream: string; length: number; heldBy: string }[];
  consumerNameClashes?: number;
}

/**
 * Entries a broker removed before they were handled, in numbers: `lost` by durable consumer
 * groups (to re-drive), `lostBestEffort` by broadcast readers (allowed), `vanished` streams or
 * groups (an unknown number of entries), streams a lagging group holds above the cap, and
 * renewals that found another live process using this process's consumer name (a
 * misconfiguration: a dead twin's entries then wait `REDIS_CLAIM_IDLE_MS`).
 */
export interface TransportLosses {
  lost: number;
  lostBestEffort: number;
  vanished: number;
  streamsOverCap: readonly { stream: string; length: number; heldBy: string }[];
  consumerNameClashes: number;
}

/** Reads a transport's `stats()`, if it offers one, as plain numbers; undefined otherwise. */
export function transportLosses(transport: object | undefined): TransportLosses | undefined {
  const withStats = transport as { stats?: () => TransportLossStats } | undefined;
  if (typeof withStats?.stats !== 'function') return undefined;
  const stats = withStats.stats();
  return {
    lost: stats.lost ?? 0,
    lostBestEffort: stats.lostBestEffort ?? 0,
    vanished: (stats.groupsLost ?? 0) + (stats.streamsLost ?? 0),
    streamsOverCap: stats.streamsOverCap ?? [],
    consumerNameClashes: stats.consumerNameClashes ?? 0,
  };
}

import { ConfigurationError, envChoice, envInt } from '@modulith/core';
import type { EventTransportKind } from '@modulith/messaging/transport';
import { INVARIANT_MODULES } from './invariants.service';

/** How `main.js verify` reaches the modules whose queries the invariant check reads. */
export interface VerifyPlan {
  /** `local`: it loads ingestion, ledger and analytics itself, read-only; `remote`: it hosts none and its queries go to the processes that do. */
  queries: 'local' | 'remote';
  /** The modules it loads (none when remote). */
  modules: string[];
  eventTransport: EventTransportKind;
  /** How long it waits for the pipeline to drain, in ms. */
  drainTimeoutMs: number;
}

/**
 * `VERIFY_QUERIES` (`local`, the default, or `remote`) and `VERIFY_TIMEOUT_MS`.
 * @throws ConfigurationError for `remote` without `EVENT_TRANSPORT=redis`: queries cross processes only over Redis.
 */
export function verifyPlanFromEnv(env: NodeJS.ProcessEnv = process.env): VerifyPlan {
  const queries = envChoice(env, 'VERIFY_QUERIES', ['local', 'remote'] as const, 'local');
  const drainTimeoutMs = envInt(env, 'VERIFY_TIMEOUT_MS', 120_000, 0);
  if (queries === 'local') return { queries, modules: [...INVARIANT_MODULES], eventTransport: 'inprocess', drainTimeoutMs };
  if (envChoice(env, 'EVENT_TRANSPORT', ['inprocess', 'redis'] as const, 'inprocess') !== 'redis') {
    throw new ConfigurationError(
      `VERIFY_QUERIES=remote sends the invariant check's queries to the processes that host ${INVARIANT_MODULES.join(', ')}, which needs EVENT_TRANSPORT=redis (and REDIS_URL); ` +
        'or use VERIFY_QUERIES=local to load those modules here',
      { variable: 'VERIFY_QUERIES' },
    );
  }
  return { queries, modules: [], eventTransport: 'redis', drainTimeoutMs };
}

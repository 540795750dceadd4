/**
 * @modulith/messaging/testing — helpers for tests of modules that publish or subscribe.
 * Never imported by production code.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { waitForDrain, type WaitForDrainOptions } from '@modulith/testing';
import { isDrained, MessagingMetrics, type MessagingBacklog } from './metrics/messaging-metrics';
import { Relay } from './relay/relay';
import { RetryPoller } from './retries/retry-poller';
import { InProcessTransport } from './transport/in-process.transport';
import { TRANSPORT, type Transport } from './transport/transport';

export { deleteRedisKeys, redisTestPrefix, requireRedis, startRedisTestServer } from './transport/redis/redis-test-server';
export type { RedisTestServer, RedisTestServerOptions } from './transport/redis/redis-test-server';
export { messagingTestConfig } from './messaging-test-config';
export { Scenario, DEFAULT_SCENARIO_TIMEOUT_MS } from './scenario/scenario';
export type { ScenarioOptions, PublishOptions } from './scenario/scenario';
export { Stimulus } from './scenario/stimulus';
export type { ScenarioOutcome, SettleOptions } from './scenario/stimulus';
export type { Settlement, PendingDelivery, DeadLetteredDelivery } from './scenario/settlement';

/**
 * Waits until the outbox is empty, no retry is parked and a broker transport holds nothing
 * unhandled: every event reached every subscriber or the dead letters.
 */
export function waitForIdle(app: INestApplicationContext, options: Omit<WaitForDrainOptions<MessagingBacklog>, 'drained'> = {}): Promise<MessagingBacklog> {
  const metrics = app.get(MessagingMetrics, { strict: false });
  return waitForDrain(() => metrics.backlog(), { drained: isDrained, quietLooks: 1, pollMs: 25, message: 'the outbox, retries and transport', ...options });
}

/**
 * Runs relay batches in the test's own flow until the outbox is empty (relay may also be
 * running), then, with the in-process transport, waits until every durable subscriber here has
 * read the log that far (each event handled, parked or dead-lettered).
 */
export async function relayAll(app: INestApplicationContext): Promise<number> {
  const relay = app.get(Relay, { strict: false });
  let total = 0;
  for (;;) {
    const outcome = await relay.claimOnce();
    total += outcome.claimed;
    if (outcome.busy) await new Promise((resolve) => setTimeout(resolve, 10));
    else if (outcome.claimed === 0) break;
  }
  const transport = app.get<Transport>(TRANSPORT, { strict: false });
  if (transport.delivery === 'log') await app.get(InProcessTransport, { strict: false }).settled();
  return total;
}

/** Runs due retries in the test's own flow; returns how many were attempted. */
export function retryDueOnce(app: INestApplicationContext): Promise<number> {
  return app.get(RetryPoller, { strict: false }).pollOnce();
}

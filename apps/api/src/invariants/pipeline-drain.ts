import type { MessagingBacklog, MessagingMetrics } from '@modulith/messaging/operator';

/** Waits until nothing is pending in the outbox, the event log, the retry table or the transport (twice in a row), or the timeout. */
export async function waitForDrain(metrics: MessagingMetrics, timeoutMs: number, pollMs = 250): Promise<{ drained: boolean; backlog: MessagingBacklog }> {
  const deadline = Date.now() + timeoutMs;
  let quietPolls = 0;
  for (;;) {
    const backlog = await metrics.backlog();
    // Over Redis, events read from the outbox may still wait in a stream or a consumer group.
    const transportIdle = backlog.transportPending === undefined || backlog.transportPending === 0;
    // In process, relayed events wait in the event log until every durable subscriber has read them.
    quietPolls = backlog.outboxPending === 0 && backlog.logPending === 0 && backlog.retriesPending === 0 && transportIdle ? quietPolls + 1 : 0;
    if (quietPolls >= 2) return { drained: true, backlog };
    if (Date.now() > deadline) return { drained: false, backlog };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

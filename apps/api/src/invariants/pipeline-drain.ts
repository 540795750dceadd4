import { isDrained, type MessagingBacklog, type MessagingMetrics } from '@modulith/messaging/operator';

/** Waits until the backlog `isDrained` (nothing pending in the outbox, event log, retries or transport) twice in a row, or the timeout. */
export async function waitForDrain(metrics: MessagingMetrics, timeoutMs: number, pollMs = 250): Promise<{ drained: boolean; backlog: MessagingBacklog }> {
  const deadline = Date.now() + timeoutMs;
  let quietPolls = 0;
  for (;;) {
    const backlog = await metrics.backlog();
    quietPolls = isDrained(backlog) ? quietPolls + 1 : 0;
    if (quietPolls >= 2) return { drained: true, backlog };
    if (Date.now() > deadline) return { drained: false, backlog };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

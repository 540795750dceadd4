import { eventually } from './eventually';

export interface WaitForDrainOptions<B> {
  /** Whether one look shows nothing pending (for messaging: `isDrained` from `@modulith/messaging`). */
  drained: (look: B) => boolean;
  /** Drained looks in a row before it counts: a relay between two reads can still add work. Default 3. */
  quietLooks?: number;
  /** Bound in ms; default `TEST_WAIT_TIMEOUT_MS` (15 s). */
  timeoutMs?: number;
  /** Pause between looks in ms; default 250. */
  pollMs?: number;
  /** What drains, for the timeout's message; default "the pipeline". */
  message?: string;
}

/**
 * Looks at a backlog (`look`, e.g. `GET /admin/pipeline` or `MessagingMetrics.backlog()`) until
 * `drained` holds `quietLooks` times in a row, and resolves with the last look. A look that fails
 * resets the count. Rejects after `timeoutMs` with the last look in the message.
 */
export async function waitForDrain<B>(look: () => Promise<B>, options: WaitForDrainOptions<B>): Promise<B> {
  const { drained, quietLooks = 3, pollMs = 250, message = 'the pipeline' } = options;
  let quiet = 0;
  let last: B | undefined;
  await eventually(
    async () => {
      try {
        last = await look();
      } catch (error) {
        quiet = 0;
        throw error;
      }
      quiet = drained(last) ? quiet + 1 : 0;
      return quiet >= quietLooks;
    },
    { message: `${message} to drain`, timeoutMs: options.timeoutMs, pollMs, describe: () => `last look: ${JSON.stringify(last)}` },
  );
  return last as B;
}

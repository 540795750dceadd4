/** The channel relays LISTEN on; the payload is empty: it is only a hint to look. */
export const OUTBOX_CHANNEL = 'modulith_outbox';

/**
 * The channel a relay NOTIFYs after its claims appended to the event log (coalesced, payload: the
 * sending process's id): log readers of other processes look now instead of at their next poll.
 */
export const LOG_CHANNEL = 'modulith_event_log';

/**
 * Turns a stream of "rows committed" signals into at most one NOTIFY per window: the first
 * signal sends at once (low latency when traffic is light), later ones inside the window are
 * folded into one send at its end. NOTIFY inside write transactions serializes commits on a
 * global lock (measured 5x fewer commits/s); outside them and coalesced it costs nothing.
 */
export class NotifyCoalescer {
  private timer?: NodeJS.Timeout;
  private dirty = false;
  private stopped = false;

  constructor(
    private readonly send: () => Promise<void>,
    private readonly windowMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  signal(): void {
    if (this.stopped) return;
    if (this.timer) {
      this.dirty = true;
      return;
    }
    this.fire();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.dirty = false;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.dirty && !this.stopped) this.fire();
    }, this.windowMs);
    this.timer.unref();
    this.send().catch(this.onError);
  }
}

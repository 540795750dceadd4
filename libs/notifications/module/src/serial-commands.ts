/**
 * One connection's client commands, run one after another so answers come in the order asked
 * (a `subscribe` waits for balances while an `unsubscribe` would not). At most `limit` wait at
 * once: a client that sends faster than it is answered is refused, not buffered without end.
 */
export class SerialCommands {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly limit: number) {}

  /** Runs `command` after those before it; returns false, running nothing, when `limit` are waiting. `command` handles its own errors. */
  run(command: () => Promise<void>): boolean {
    if (this.waiting >= this.limit) return false;
    this.waiting += 1;
    this.tail = this.tail.then(command).finally(() => {
      this.waiting -= 1;
    });
    return true;
  }
}

/**
 * A wake-up call for sleeping loops. A signal that arrives while nobody sleeps is remembered,
 * so a commit that lands while the relay is busy makes it look again instead of sleeping.
 */
export class Wakeup {
  private pending = false;
  private sleepers = new Set<() => void>();

  signal(): void {
    if (this.sleepers.size === 0) {
      this.pending = true;
      return;
    }
    const sleepers = [...this.sleepers];
    this.sleepers.clear();
    for (const wake of sleepers) wake();
  }

  /** Sleeps up to `ms`, or until signalled; returns at once if a signal is pending. */
  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

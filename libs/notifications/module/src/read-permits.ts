/** Gives back a permit taken from ReadPermits. */
export type Release = () => void;

/**
 * At most `limit` holders at once in this process; others wait in arrival order, each until its
 * own deadline. Waiting is bounded by that deadline, so the queue holds only callers still
 * within theirs.
 */
export class ReadPermits {
  private active = 0;
  private readonly waiters: { grant: (release: Release) => void }[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves with the release of a permit, or `undefined` if none came free before `deadline` (epoch ms). */
  acquire(deadline: number): Promise<Release | undefined> {
    if (this.active < this.limit) return Promise.resolve(this.take());
    return new Promise((resolve) => {
      const waiter = {
        grant: (release: Release) => {
          clearTimeout(timer);
          resolve(release);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, Math.max(0, deadline - Date.now()));
      this.waiters.push(waiter);
    });
  }

  /** Permits held now. */
  get inUse(): number {
    return this.active;
  }

  private take(): Release {
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      const next = this.waiters.shift();
      if (next) next.grant(this.take());
    };
  }
}

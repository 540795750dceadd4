/**
 * A counting semaphore: at most `size` calls run at once in this process, over every module it
 * serves. A call still running past its deadline and grace may be `abandon`ed: its caller has
 * given up, so its slot goes to the next call, and it is counted apart until it returns. At most
 * `size` calls are abandoned at once; past that an overrunning call keeps its slot. JavaScript
 * cannot stop a handler, so this is what bounds hung handlers: at most 2 × `size` at once.
 */
export class CallSlots {
  private used = 0;
  private overrunning = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly size: number) {}

  get free(): number {
    return this.size - this.used;
  }

  /** Abandoned calls that have not returned yet. */
  get abandoned(): number {
    return this.overrunning;
  }

  /** Resolves once a slot is taken for the caller. */
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.used += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.used -= 1;
    this.wake();
  }

  /**
   * The call holding a slot overran: its slot is freed and it is counted as abandoned until
   * `abandonedEnded`. False (the call keeps its slot) when `size` calls are abandoned already.
   */
  abandon(): boolean {
    if (this.overrunning >= this.size) return false;
    this.used -= 1;
    this.overrunning += 1;
    this.wake();
    return true;
  }

  abandonedEnded(): void {
    this.overrunning -= 1;
    this.wake();
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.free > 0) {
      this.used += 1;
      this.waiters.shift()?.();
    }
  }
}

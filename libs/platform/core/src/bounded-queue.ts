/** What a full queue gives up: the oldest waiting item (fresh state wins) or the one arriving. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest';

/**
 * A fixed-capacity FIFO for best-effort consumers (e.g. WebSocket fan-out): it never grows past
 * its capacity; on overflow it drops one item and counts it, so a slow consumer costs events,
 * not memory. Single consumer: `take` after `waitForItems`.
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private droppedCount = 0;
  private isClosed = false;
  private waiter?: () => void;

  constructor(
    readonly capacity: number,
    private readonly overflow: OverflowPolicy = 'drop-oldest',
    private readonly onDrop?: (item: T) => void,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Items dropped on overflow since the queue was made. */
  get dropped(): number {
    return this.droppedCount;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Adds an item; returns false when the queue is closed or the item itself was dropped. */
  offer(item: T): boolean {
    if (this.isClosed) return false;
    if (this.count === this.capacity) {
      this.droppedCount += 1;
      if (this.overflow === 'drop-newest') {
        this.onDrop?.(item);
        return false;
      }
      const oldest = this.shift();
      this.onDrop?.(oldest as T);
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count += 1;
    this.wake();
    return true;
  }

  /** Removes and returns up to `max` items, oldest first. */
  take(max = 1): T[] {
    const taken: T[] = [];
    while (taken.length < max && this.count > 0) taken.push(this.shift() as T);
    return taken;
  }

  /** Resolves once an item is waiting or the queue is closed. */
  waitForItems(): Promise<void> {
    if (this.count > 0 || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Refuses new items and wakes the consumer; items already queued can still be taken. */
  close(): void {
    this.isClosed = true;
    this.wake();
  }

  private shift(): T | undefined {
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count -= 1;
    return item;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

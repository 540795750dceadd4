import { BoundedQueue } from './bounded-queue';

describe('BoundedQueue', () => {
  it('keeps order and never holds more than its capacity', () => {
    const queue = new BoundedQueue<number>(3);
    for (let i = 1; i <= 10; i += 1) queue.offer(i);
    expect(queue.size).toBe(3);
    expect(queue.take(10)).toEqual([8, 9, 10]);
    expect(queue.size).toBe(0);
  });

  it('counts what it drops, oldest first by default', () => {
    const dropped: number[] = [];
    const queue = new BoundedQueue<number>(2, 'drop-oldest', (item) => dropped.push(item));
    expect([1, 2, 3, 4].map((item) => queue.offer(item))).toEqual([true, true, true, true]);
    expect(queue.dropped).toBe(2);
    expect(dropped).toEqual([1, 2]);
  });

  it('can refuse the newcomer instead', () => {
    const queue = new BoundedQueue<number>(2, 'drop-newest');
    expect([1, 2, 3].map((item) => queue.offer(item))).toEqual([true, true, false]);
    expect(queue.dropped).toBe(1);
    expect(queue.take(5)).toEqual([1, 2]);
  });

  it('wraps around its ring without losing items', () => {
    const queue = new BoundedQueue<number>(4);
    const seen: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      queue.offer(i);
      if (i % 3 === 2) seen.push(...queue.take(3));
    }
    seen.push(...queue.take(10));
    expect(queue.dropped).toBe(0);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('wakes a waiting consumer on offer and on close, and refuses items once closed', async () => {
    const queue = new BoundedQueue<string>(1);
    const waiting = queue.waitForItems();
    queue.offer('a');
    await waiting;
    expect(queue.take()).toEqual(['a']);
    const closing = queue.waitForItems();
    queue.close();
    await closing;
    expect(queue.offer('b')).toBe(false);
    expect(queue.dropped).toBe(0);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});

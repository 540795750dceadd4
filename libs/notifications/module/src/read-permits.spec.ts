import { ReadPermits } from './read-permits';

describe('ReadPermits', () => {
  it('given every permit taken, then a caller waits for one in arrival order, and one whose deadline passes gives up', async () => {
    const permits = new ReadPermits(1);
    const first = await permits.acquire(Date.now() + 1000);
    const late = permits.acquire(Date.now()); // no time to wait
    const second = permits.acquire(Date.now() + 10_000);

    expect(await late).toBeUndefined();
    expect(permits.inUse).toBe(1);
    first?.();
    const release = await second;
    expect(release).toBeDefined();
    expect(permits.inUse).toBe(1);
    release?.();
    release?.(); // twice is once
    expect(permits.inUse).toBe(0);
  });
});

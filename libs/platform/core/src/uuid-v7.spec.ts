import { uuidv7 } from './uuid-v7';

describe('uuidv7', () => {
  it('is a version 7, variant 1 UUID carrying its millisecond timestamp', () => {
    const id = uuidv7(Date.UTC(2026, 0, 1));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 1));
  });

  it('sorts in creation order, even within one millisecond', () => {
    const fixed = Date.now() + 60_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(fixed));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws fresh random bits for every id, across refills of its entropy pool', () => {
    // 2,000 ids use the pool (256 ids' worth) about eight times over: no random tail may repeat.
    const tails = Array.from({ length: 2000 }, () => uuidv7().replace(/-/g, '').slice(16));
    expect(new Set(tails).size).toBe(tails.length);
  });
});

import { CallSlots } from './call-slots';

describe('CallSlots', () => {
  it('gives at most `size` slots; a release hands one to the next waiter', async () => {
    const slots = new CallSlots(2);
    await slots.acquire();
    await slots.acquire();
    let third = false;
    const waiting = slots.acquire().then(() => (third = true));
    await Promise.resolve();
    expect(third).toBe(false);
    slots.release();
    await waiting;
    expect(slots.free).toBe(0);
  });

  it('an abandoned call frees its slot and counts apart until it returns; at most `size` are abandoned', async () => {
    const slots = new CallSlots(2);
    await slots.acquire();
    await slots.acquire();
    expect(slots.abandon()).toBe(true);
    expect(slots.abandon()).toBe(true);
    expect([slots.free, slots.abandoned]).toEqual([2, 2]);
    await slots.acquire();
    expect(slots.abandon()).toBe(false); // the bound: this one keeps its slot
    expect([slots.free, slots.abandoned]).toEqual([1, 2]);
    slots.abandonedEnded();
    expect(slots.abandon()).toBe(true);
    expect([slots.free, slots.abandoned]).toEqual([2, 2]);
  });
});

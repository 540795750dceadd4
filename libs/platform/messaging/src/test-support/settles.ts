import { eventually } from '@modulith/testing';

/** Waits until `assertion` (a set of `expect`s) passes; the timeout's message carries its last failure. */
export const settles = (assertion: () => unknown): Promise<true> =>
  eventually(async () => {
    await assertion();
    return true as const;
  });

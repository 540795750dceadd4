import { uuidv7 } from '@modulith/core';
import { uuidv7Floor } from './inbox-pruner';

describe('uuidv7Floor', () => {
  it('sorts below every id made in or after its millisecond, and above every id made before', () => {
    const at = Date.now() + 365 * 86_400_000; // ahead of any id made so far, so uuidv7 uses it as given
    const floor = uuidv7Floor(at);
    expect(floor).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7000-8000-000000000000$/);
    expect(uuidv7(at) >= floor).toBe(true);
    expect(uuidv7(at + 1) > floor).toBe(true);
    expect(uuidv7Floor(at - 1) < floor).toBe(true);
  });
});

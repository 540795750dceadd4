import { currentCorrelation, runWithCorrelation } from './correlation';

describe('correlation context', () => {
  it('is visible through awaits inside the run and absent outside', async () => {
    expect(currentCorrelation()).toBeUndefined();
    const seen = await runWithCorrelation({ correlationId: 'c-1' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return currentCorrelation();
    });
    expect(seen).toEqual({ correlationId: 'c-1' });
    expect(currentCorrelation()).toBeUndefined();
  });
});

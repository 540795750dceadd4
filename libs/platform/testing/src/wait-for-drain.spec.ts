import { waitForDrain } from './wait-for-drain';

const drained = (look: { pending: number }) => look.pending === 0;

describe('waitForDrain', () => {
  it('resolves with the last look once it is drained quietLooks times in a row', async () => {
    const looks = [0, 2, 0, 0, 1, 0, 0, 0, 5];
    let i = 0;
    const last = await waitForDrain(async () => ({ pending: looks[i], at: i++ }), { drained, quietLooks: 3, pollMs: 1 });
    expect(last).toEqual({ pending: 0, at: 7 });
  });

  it('restarts the count after a look that fails', async () => {
    const looks: (number | Error)[] = [0, 0, new Error('HTTP 503'), 0, 0];
    let i = 0;
    const look = async () => {
      const value = looks[i++];
      if (value instanceof Error) throw value;
      return { pending: value, at: i - 1 };
    };
    expect(await waitForDrain(look, { drained, quietLooks: 2, pollMs: 1 })).toEqual({ pending: 0, at: 1 });
    i = 1;
    expect(await waitForDrain(look, { drained, quietLooks: 2, pollMs: 1 })).toEqual({ pending: 0, at: 4 });
  });

  it('fails after the bound with the last look', async () => {
    await expect(waitForDrain(async () => ({ pending: 4 }), { drained, timeoutMs: 30, pollMs: 5, message: 'the outbox' })).rejects.toThrow(
      /timed out after 30 ms waiting for the outbox to drain\nlast look: \{"pending":4\}/,
    );
  });
});

import { eventually } from './eventually';

describe('eventually', () => {
  it('resolves with the first truthy value the check returns', async () => {
    let looks = 0;
    await expect(eventually(() => (++looks >= 3 ? { looks } : undefined), { pollMs: 1 })).resolves.toEqual({ looks: 3 });
  });

  it('counts a look that throws as "not yet"', async () => {
    let looks = 0;
    const check = async () => {
      looks += 1;
      if (looks < 3) throw new Error('not listening yet');
      return true;
    };
    await expect(eventually(check, { pollMs: 1 })).resolves.toBe(true);
  });

  it('fails after the bound naming what it waited for, the last error and the described state', async () => {
    const started = Date.now();
    const failure = eventually(
      () => {
        throw new Error('connection refused');
      },
      { message: 'the server', timeoutMs: 50, pollMs: 5, describe: () => 'state: down' },
    );
    await expect(failure).rejects.toThrow(/^timed out after 50 ms waiting for the server; last error: connection refused\nstate: down$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('takes its default bound from TEST_WAIT_TIMEOUT_MS and refuses a bad one naming the variable', async () => {
    process.env['TEST_WAIT_TIMEOUT_MS'] = '20';
    try {
      await expect(eventually(() => false, { pollMs: 1 })).rejects.toThrow('timed out after 20 ms waiting for condition');
      process.env['TEST_WAIT_TIMEOUT_MS'] = 'soon';
      await expect(eventually(() => true)).rejects.toThrow('TEST_WAIT_TIMEOUT_MS must be a positive whole number of milliseconds, got "soon"');
    } finally {
      delete process.env['TEST_WAIT_TIMEOUT_MS'];
    }
  });
});

describe('eventually with a signal', () => {
  it('stops at the next look once the signal is aborted, with its reason', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Error('the process died')), 20);
    await expect(eventually(() => false, { timeoutMs: 10_000, pollMs: 5, signal: stop.signal })).rejects.toThrow('the process died');
  });
});

import { NotifyCoalescer } from './notify-coalescer';

describe('NotifyCoalescer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends the first signal at once and folds a burst into one trailing send per window', () => {
    const send = jest.fn(() => Promise.resolve());
    const coalescer = new NotifyCoalescer(send, 50, () => undefined);
    coalescer.signal();
    expect(send).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 1000; i += 1) coalescer.signal();
    expect(send).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(50);
    expect(send).toHaveBeenCalledTimes(2);
    jest.advanceTimersByTime(50);
    expect(send).toHaveBeenCalledTimes(2); // nothing new arrived in the second window
    coalescer.signal();
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('sends nothing once stopped', () => {
    const send = jest.fn(() => Promise.resolve());
    const coalescer = new NotifyCoalescer(send, 50, () => undefined);
    coalescer.signal();
    coalescer.signal();
    coalescer.stop();
    jest.advanceTimersByTime(100);
    coalescer.signal();
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('reports a failed send instead of throwing', async () => {
    const errors: unknown[] = [];
    const coalescer = new NotifyCoalescer(() => Promise.reject(new Error('down')), 10, (error) => errors.push(error));
    coalescer.signal();
    await Promise.resolve();
    expect(errors).toHaveLength(1);
  });
});

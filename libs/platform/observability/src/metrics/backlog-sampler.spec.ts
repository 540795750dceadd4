import { Logger } from '@nestjs/common';
import type { MessagingBacklog, MessagingMetrics } from '@modulith/messaging/operator';
import { BacklogSampler } from './backlog-sampler';

const EMPTY: MessagingBacklog = { outboxPending: 0, oldestPendingAgeMs: null, retriesPending: 0, deadLetters: 0, heldEvents: 0, heldKeys: 0, logPending: 0 };

/** A sampler over a stand-in for `MessagingMetrics.backlog()` whose answers the test scripts. */
function samplerWith(answers: (() => Promise<MessagingBacklog>)[], refreshMs = 60_000, readTimeoutMs?: number) {
  const reads: number[] = [];
  const messaging = {
    backlog: () => {
      reads.push(Date.now());
      return (answers.shift() ?? (() => Promise.resolve(EMPTY)))();
    },
  } as unknown as MessagingMetrics;
  return { sampler: new BacklogSampler(messaging, { refreshMs, readTimeoutMs }), reads };
}

const failure = () => Promise.reject(new Error('database away'));
const brokerAway = () => Promise.resolve({ ...EMPTY, transportPending: null });

describe('BacklogSampler', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('given a working database, reads once at start and then once per refreshMs, however often it is looked at', async () => {
    const { sampler, reads } = samplerWith([], 10_000);
    sampler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(35_000);
    for (let i = 0; i < 100; i++) expect(sampler.latest?.backlog).toEqual(EMPTY);
    expect(reads).toEqual([0, 10_000, 20_000, 30_000]);
    await sampler.onModuleDestroy();
  });

  it('given a failing read, is failing and keeps the last good sample, retries from 1 s doubling up to refreshMs, then settles', async () => {
    const { sampler, reads } = samplerWith([() => Promise.resolve({ ...EMPTY, outboxPending: 7 }), failure, failure, failure, failure, failure], 5000);
    sampler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(sampler.latest?.backlog.outboxPending).toBe(7);
    await jest.advanceTimersByTimeAsync(5000);
    expect(sampler.failing).toBe(true);
    expect(sampler.latest?.backlog.outboxPending).toBe(7);
    await jest.advanceTimersByTimeAsync(30_000);
    // 5000: failed; then 1 s, 2 s, 4 s, capped at 5 s; the sixth read works and the period is back to 5 s.
    expect(reads).toEqual([0, 5000, 6000, 8000, 12_000, 17_000, 22_000, 27_000, 32_000]);
    expect(sampler.failing).toBe(false);
    expect(sampler.latest?.backlog.outboxPending).toBe(0);
    await sampler.onModuleDestroy();
  });

  it('given a broker that cannot be asked yet, retries soon rather than a whole period later', async () => {
    const { sampler, reads } = samplerWith([brokerAway], 60_000);
    sampler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1000);
    expect(reads).toEqual([0, 1000]);
    expect(sampler.latest?.backlog.transportPending).toBeUndefined();
    await sampler.onModuleDestroy();
  });

  it('on destroy, waits for the read in flight and reads no more', async () => {
    let finish!: (backlog: MessagingBacklog) => void;
    const { sampler, reads } = samplerWith([() => new Promise((resolve) => (finish = resolve))], 1000);
    sampler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    let destroyed = false;
    const destroy = sampler.onModuleDestroy().then(() => (destroyed = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(destroyed).toBe(false);
    finish(EMPTY);
    await destroy;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(reads).toEqual([0]);
  });

  it('given a database that never answers (paused), is failing after readTimeoutMs, warns once, and starts no read beside the hung one', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    let answer!: (backlog: MessagingBacklog) => void;
    const { sampler, reads } = samplerWith([() => Promise.resolve({ ...EMPTY, outboxPending: 3 }), () => new Promise((resolve) => (answer = resolve))], 10_000, 2000);
    sampler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(reads).toEqual([0, 10_000]);
    expect(sampler.failing).toBe(false);
    await jest.advanceTimersByTimeAsync(2000);
    expect(sampler.failing).toBe(true);
    expect(sampler.latest?.backlog.outboxPending).toBe(3);
    // Retries come and fail at once while the hung read is outstanding: the server gets no second query.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(reads).toEqual([0, 10_000]);
    expect(sampler.failing).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/no answer within 2000 ms/);
    // The server answers again: the late answer is dropped (stale), the next read works.
    answer({ ...EMPTY, outboxPending: 99 });
    await jest.advanceTimersByTimeAsync(10_000);
    expect(reads).toHaveLength(3);
    expect(sampler.failing).toBe(false);
    expect(sampler.latest?.backlog.outboxPending).toBe(0);
    await sampler.onModuleDestroy();
  });

  it('on destroy while a read hangs, returns within readTimeoutMs', async () => {
    const { sampler } = samplerWith([() => new Promise(() => undefined)], 1000, 3000);
    sampler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    let destroyed = false;
    const destroy = sampler.onModuleDestroy().then(() => (destroyed = true));
    await jest.advanceTimersByTimeAsync(3000);
    await destroy;
    expect(destroyed).toBe(true);
  });
});

import type { EventEnvelope } from '../events/event-envelope';
import { planFromProgress } from './key-order';

function event(name: string, orderingKey?: string, keySeq?: number): EventEnvelope {
  return {
    id: name,
    type: 'fixture.moved',
    version: 1,
    occurredAt: '2026-11-30T00:00:00.000Z',
    source: 'fixture',
    correlationId: name,
    causationId: null,
    payload: {},
    ...(orderingKey === undefined ? {} : { orderingKey, keySeq }),
  };
}

function byKey(chunk: readonly EventEnvelope[]): Map<string, EventEnvelope[]> {
  const keys = new Map<string, EventEnvelope[]>();
  for (const envelope of chunk) {
    if (envelope.orderingKey === undefined) continue;
    keys.set(envelope.orderingKey, [...(keys.get(envelope.orderingKey) ?? []), envelope]);
  }
  return keys;
}

const plan = (chunk: EventEnvelope[], progress: Record<string, number>) => {
  const result = planFromProgress(chunk, byKey(chunk), new Map(Object.entries(progress)));
  const ids = (list: EventEnvelope[]) => list.map((envelope) => envelope.id);
  return { take: ids(result.take), held: ids(result.held), seen: ids(result.seen), advance: result.advance };
};

describe('planFromProgress: which events of a delivery are next for their key', () => {
  it('takes every event of a key when they arrive reversed, in ascending order, none lost', () => {
    // Failed before: the put-back loop dropped k#2 when k#2 came first in the chunk.
    const chunk = [event('k2', 'k', 2), event('k1', 'k', 1), event('k3', 'k', 3)];
    expect(plan(chunk, {})).toEqual({ take: ['k1', 'k2', 'k3'], held: [], seen: [], advance: [{ key: 'k', expected: 0, seq: 3 }] });
  });

  it('keeps other keys and unordered events in their places', () => {
    const chunk = [event('a2', 'a', 2), event('u'), event('b1', 'b', 1), event('a1', 'a', 1)];
    expect(plan(chunk, {}).take).toEqual(['a1', 'u', 'b1', 'a2']);
  });

  it('drops what the key has had, and takes the run of next numbers in order', () => {
    const chunk = [event('k3', 'k', 3), event('k5', 'k', 5), event('k6', 'k', 6), event('k4', 'k', 4), event('j1', 'j', 1)];
    expect(plan(chunk, { k: 3, j: 0 })).toEqual({
      take: ['k4', 'k5', 'k6', 'j1'],
      held: [],
      seen: ['k3'],
      advance: [
        { key: 'k', expected: 3, seq: 6 },
        { key: 'j', expected: 0, seq: 1 },
      ],
    });
  });

  it('holds everything after a gap', () => {
    const chunk = [event('k4', 'k', 4), event('k6', 'k', 6), event('k7', 'k', 7)];
    expect(plan(chunk, { k: 3 })).toEqual({ take: ['k4'], held: ['k6', 'k7'], seen: [], advance: [{ key: 'k', expected: 3, seq: 4 }] });
  });

  it('takes nothing of a key whose next event is missing', () => {
    const chunk = [event('k7', 'k', 7), event('k8', 'k', 8), event('j2', 'j', 2)];
    expect(plan(chunk, { k: 5, j: 1 })).toEqual({ take: ['j2'], held: ['k7', 'k8'], seen: [], advance: [{ key: 'j', expected: 1, seq: 2 }] });
  });
});

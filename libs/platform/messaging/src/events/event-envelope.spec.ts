import { runWithCorrelation, ValidationError, type Clock } from '@modulith/core';
import { buildEnvelopes } from './event-envelope';
import { IntegrationEvent, assertEventClass, instantiateEvent } from './integration-event';

class AmountMoved extends IntegrationEvent<{ amount: string; account: string; tags?: string[] }> {
  static readonly type = 'ledger.amount-moved';
  static readonly version = 2;
  static readonly upcasters = { 1: (v1: object) => v1 };
}

const clock: Clock = { now: () => new Date('2026-01-02T03:04:05.678Z') };

describe('buildEnvelopes', () => {
  it('stamps id, type, version, time and source on each event', () => {
    const [envelope] = buildEnvelopes([new AmountMoved({ amount: '12', account: 'a-1' })], 'ledger', {}, clock);
    expect(envelope).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'ledger.amount-moved',
      version: 2,
      occurredAt: '2026-01-02T03:04:05.678Z',
      source: 'ledger',
      correlationId: envelope.id,
      causationId: null,
      payload: { amount: '12', account: 'a-1' },
    });
  });

  it('gives events appended together increasing ids and one correlation', () => {
    const envelopes = buildEnvelopes([1, 2, 3].map((n) => new AmountMoved({ amount: String(n), account: 'a' })), 'ledger', {}, clock);
    expect(envelopes.map((e) => e.id)).toEqual(envelopes.map((e) => e.id).sort());
    expect(new Set(envelopes.map((e) => e.correlationId))).toEqual(new Set([envelopes[0].id]));
  });

  it('takes correlation and causation from the context, and an explicit origin over both', () => {
    const event = new AmountMoved({ amount: '1', account: 'a' });
    const fromContext = runWithCorrelation({ correlationId: 'req-1', causationId: 'evt-0' }, () => buildEnvelopes([event], 'ledger'));
    expect(fromContext[0]).toMatchObject({ correlationId: 'req-1', causationId: 'evt-0' });
    const explicit = runWithCorrelation({ correlationId: 'req-1' }, () => buildEnvelopes([event], 'ledger', { correlationId: 'c-2', causationId: null }));
    expect(explicit[0]).toMatchObject({ correlationId: 'c-2', causationId: null });
  });

  it('refuses payloads that JSON would change or cannot carry, naming the field', () => {
    const build = (payload: unknown): unknown => buildEnvelopes([new AmountMoved(payload as never)], 'ledger');
    expect(() => build({ amount: 0.1, account: 'a' })).toThrow(ValidationError);
    expect(() => build({ amount: 0.1, account: 'a' })).toThrow('events[0].payload.amount: numbers in event payloads must be safe integers');
    expect(() => build({ amount: 2 ** 60, account: 'a' })).toThrow(/safe integers/);
    expect(() => build({ amount: '1', account: 'a', tags: ['x', undefined] })).toThrow('events[0].payload.tags[1]: must be plain JSON data, got undefined');
    expect(() => build({ amount: '1', account: new (class Account {})() })).toThrow('instance of Account');
    expect(() => build(['not', 'an', 'object'])).toThrow('events[0].payload: must be a plain object');
    expect(() => build({ amount: '1', account: 'a', nested: { ok: [1, true, null, 'x'] } })).not.toThrow();
  });
});

describe('integration event classes', () => {
  it('must declare their own stable type and a positive version', () => {
    class Untyped extends IntegrationEvent {}
    class Inherited extends AmountMoved {}
    class BadType extends IntegrationEvent {
      static readonly type = 'AmountMoved';
      static readonly version = 1;
    }
    class BadVersion extends IntegrationEvent {
      static readonly type = 'ledger.bad-version';
      static readonly version = 0;
    }
    expect(() => assertEventClass(Untyped)).toThrow(/must declare "static readonly type"/);
    expect(() => assertEventClass(Inherited)).toThrow(/must declare "static readonly type"/);
    expect(() => assertEventClass(BadType)).toThrow(/kebab case/);
    expect(() => assertEventClass(BadVersion)).toThrow(/positive integer/);
    expect(() => assertEventClass(class NotAnEvent {})).toThrow(/is not an IntegrationEvent class/);
    expect(() => assertEventClass(AmountMoved)).not.toThrow();
  });

  it('are rebuilt from a payload without running a subclass constructor', () => {
    class Checked extends IntegrationEvent<{ n: number }> {
      static readonly type = 'test.checked';
      static readonly version = 1;
      constructor(n: number) {
        if (n < 0) throw new Error('negative');
        super({ n });
      }
    }
    const event = instantiateEvent(Checked, { n: -1 });
    expect(event).toBeInstanceOf(Checked);
    expect(event.payload).toEqual({ n: -1 });
  });
});

import { Type } from '@sinclair/typebox';
import { ConfigurationError } from '@modulith/core';
import { EventSchemaError, UnsupportedEventVersionError } from '../messaging.errors';
import { eventCodec } from './event-schema';
import { IntegrationEvent, type IntegrationEventClass } from './integration-event';

const PaidSchema = Type.Object({
  amount: Type.String({ pattern: '^[1-9][0-9]*$' }),
  lines: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer({ minimum: 1 }) })),
  channel: Type.Union([Type.Literal('web'), Type.Literal('shop')]),
});

class Paid extends IntegrationEvent<object> {
  static readonly type = 'test.paid';
  static readonly version = 3;
  static readonly schema = PaidSchema;
  static readonly upcasters = {
    1: (v1: { cents: number }) => ({ amount: String(v1.cents), lines: [] }),
    2: (v2: { amount: string; lines: unknown[] }) => {
      if (v2.amount === '13') throw new Error('unlucky amount');
      return { ...v2, channel: 'web' };
    },
  };
}

const eventClass = (statics: Partial<IntegrationEventClass>): IntegrationEventClass =>
  Object.assign(class extends IntegrationEvent {}, { type: 'test.sample', version: 1, ...statics }) as unknown as IntegrationEventClass;

describe('eventCodec', () => {
  const codec = eventCodec(Paid);

  it('names the first offending field as a path, with the event and version', () => {
    const good = { amount: '5', lines: [{ sku: 'a', qty: 1 }], channel: 'web' };
    expect(() => codec.check(good, 'events[0].payload')).not.toThrow();
    expect(() => codec.check({ ...good, lines: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 0 }] }, 'events[0].payload')).toThrow(
      'events[0].payload.lines[1].qty: Expected integer to be greater or equal to 1 (test.paid v3)',
    );
    expect(() => codec.check({ ...good, amount: '0.5' }, 'p')).toThrow(EventSchemaError);
    expect(() => codec.check({ ...good, channel: 'fax' }, 'p')).toThrow(/^p\.channel: /);
  });

  it('reads every older version through the chain of upcasters, and checks the result', () => {
    expect(codec.read({ cents: 250 }, 1)).toEqual({ amount: '250', lines: [], channel: 'web' });
    expect(codec.read({ amount: '7', lines: [] }, 2)).toEqual({ amount: '7', lines: [], channel: 'web' });
    expect(() => codec.read({ cents: 0 }, 1)).toThrow('payload.amount: Expected string to match');
    expect(() => codec.read({ amount: '13', lines: [] }, 2)).toThrow('payload: the upcaster from version 2 refused it: unlucky amount (test.paid v2)');
  });

  it('refuses versions it cannot read', () => {
    expect(() => codec.read({}, 4)).toThrow(UnsupportedEventVersionError);
    expect(() => codec.read({}, 0)).toThrow('Paid reads test.paid versions 1 to 3, got version 0');
  });

  it('refuses a chain with a gap or an upcaster from a version that cannot exist, naming the event', () => {
    expect(() => eventCodec(eventClass({ version: 3, upcasters: { 2: (p: object) => p } }))).toThrow(ConfigurationError);
    expect(() => eventCodec(eventClass({ version: 3, upcasters: { 2: (p: object) => p } }))).toThrow(
      '(test.sample) is at version 3 but declares no upcaster from version 1 to 2',
    );
    expect(() => eventCodec(eventClass({ version: 2, upcasters: { 1: (p: object) => p, 2: (p: object) => p } }))).toThrow(
      'is at version 2 but declares an upcaster from version 2',
    );
    expect(() => eventCodec(eventClass({ version: 2 }))).toThrow('declares no upcaster from version 1 to 2');
  });

  it('accepts any payload when the class declares no schema (buildEnvelopes still checks it is plain JSON)', () => {
    expect(() => eventCodec(eventClass({})).check({ anything: 1 }, 'p')).not.toThrow();
  });
});

describe('eventCodec of a schema that is not TypeBox', () => {
  it('fails naming the event', () => {
    const plain = eventClass({ type: 'test.plain', schema: { type: 'object', properties: { a: { type: 'string' } } } as never });
    expect(() => eventCodec(plain)).toThrow(/^ \(test\.plain\)\.schema cannot be compiled \(declare it with TypeBox's Type\.\*/);
  });
});

import { Type, type TSchema } from '@sinclair/typebox';
import { incompatibilities } from './contract-compatibility';

const json = (schema: TSchema): unknown => JSON.parse(JSON.stringify(schema));
const Base = {
  amount: Type.String({ pattern: '^[1-9][0-9]*$', description: 'minor units' }),
  channel: Type.Union([Type.Literal('web'), Type.Literal('shop')]),
  note: Type.Optional(Type.String({ maxLength: 200 })),
  lines: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer({ minimum: 1 }) })),
};
const before = json(Type.Object(Base));
const after = (properties: Record<string, TSchema>, options = {}) => json(Type.Object(properties, options));

describe('incompatibilities (every rule proven by a planted change)', () => {
  it.each([
    ['a field removed', { ...Base, amount: undefined }, 'amount', 'removed'],
    ['a type changed', { ...Base, amount: Type.Integer() }, 'amount', 'type changed from "string" to "integer"'],
    ['a nested type changed', { ...Base, lines: Type.Array(Type.Object({ sku: Type.String(), qty: Type.String() })) }, 'lines[].qty', 'type changed'],
    ['a new required field', { ...Base, memo: Type.String() }, 'memo', 'new required field'],
    ['an optional field made required', { ...Base, note: Type.String({ maxLength: 200 }) }, 'note', 'made required'],
    ['a required field made optional', { ...Base, amount: Type.Optional(Base.amount) }, 'amount', 'made optional'],
    ['an enum narrowed', { ...Base, channel: Type.Literal('web') }, 'channel', 'narrowed: no longer allows "shop"'],
    ['a pattern changed', { ...Base, amount: Type.String({ pattern: '^[0-9]+$' }) }, 'amount', 'pattern changed'],
    ['a maximum lowered', { ...Base, note: Type.Optional(Type.String({ maxLength: 100 })) }, 'note', 'maxLength lowered from 200 to 100'],
    ['a minimum raised', { ...Base, lines: Type.Array(Base.lines.items, { minItems: 1 }) }, '(payload)', 'minItems raised'],
  ])('refuses %s, naming the field', (_what, properties, field, reason) => {
    const next = after(Object.fromEntries(Object.entries(properties).filter(([, schema]) => schema !== undefined)) as Record<string, TSchema>);
    const found = incompatibilities(before, next);
    expect(found).toEqual(expect.arrayContaining([expect.objectContaining({ field: field === '(payload)' ? 'lines' : field, reason: expect.stringContaining(reason) })]));
  });

  it('refuses forbidding extra properties', () => {
    expect(incompatibilities(before, after(Base, { additionalProperties: false }))).toEqual([{ field: '(payload)', reason: 'extra properties now forbidden' }]);
  });

  it.each([
    ['a new optional field', { ...Base, memo: Type.Optional(Type.String()) }],
    ['a wider enum', { ...Base, channel: Type.Union([Type.Literal('web'), Type.Literal('shop'), Type.Literal('app')]) }],
    ['a looser maximum', { ...Base, note: Type.Optional(Type.String({ maxLength: 500 })) }],
    ['a changed description', { ...Base, amount: Type.String({ pattern: '^[1-9][0-9]*$', description: 'cents' }) }],
    ['integer widened to number', { ...Base, lines: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Number({ minimum: 1 }) })) }],
  ])('accepts %s', (_what, properties) => {
    expect(incompatibilities(before, after(properties as Record<string, TSchema>))).toEqual([]);
  });
});

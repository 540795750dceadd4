import fc from 'fast-check';
import { ValidationError } from '@modulith/core';
import { parseJsonBody } from './json-body.parser';

function parse(text: string | Buffer): { error: Error | null; value?: unknown } {
  let outcome: { error: Error | null; value?: unknown } | undefined;
  parseJsonBody(undefined, text, (error, value) => (outcome = { error, value }));
  if (!outcome) throw new Error('the parser did not call back');
  return outcome;
}

/** The field a refused body names. */
function refused(text: string): string {
  const { error } = parse(text);
  if (!(error instanceof ValidationError)) throw new Error(`expected a ValidationError for ${text}, got ${String(error)}`);
  return error.field;
}

const transfer = (extra = '') => `{"id":"t-1","from":"a","to":"b","amount":"10","currency":"EUR","occurredAt":"2026-01-31T12:00:00Z"${extra}}`;

describe('parseJsonBody', () => {
  it('refuses a key sent twice, naming it with its path, whatever its depth and values', () => {
    expect(refused(transfer(',"amount":"20"'))).toBe('amount');
    expect(refused(transfer(',"amount":"10"'))).toBe('amount');
    expect(refused(`{"transfers":[${transfer()},${transfer()},${transfer()},${transfer(',"amount":"20"')}]}`)).toBe('transfers[3].amount');
    expect(refused('{"a":{"b":[{"c":1},[],{"c":1,"d":{"e":null,"e":[1]}}]}}')).toBe('a.b[2].d.e');
    expect(refused('{"transfers":[],"transfers":[{"id":"x"}]}')).toBe('transfers');
    expect(refused('{"":1,"":2}')).toBe('[""]');
    expect(refused('{ "a" :\n1 ,\r\n\t"a"\t: 2 }')).toBe('a');
  });

  it('decodes escapes before comparing keys', () => {
    expect(refused(transfer(',"\\u0061mount":"20"'))).toBe('amount');
    expect(refused('{"a\\"b":1,"a\\u0022b":2}')).toBe('a"b');
    expect(refused('{"\\\\":1,"\\u005c":2}')).toBe('\\');
  });

  it('refuses keys that reach a prototype, escaped or not, at any depth', () => {
    expect(refused('{"__proto__":{"admin":true}}')).toBe('__proto__');
    expect(refused(`{"transfers":[${transfer()},${transfer(',"\\u005f_proto__":{}')}]}`)).toBe('transfers[1].__proto__');
    expect(refused('{"a":[{"constructor":{"prototype":{"admin":true}}}]}')).toBe('a[0].constructor');
  });

  it('accepts the same key in different objects, and keys and strings full of JSON syntax', () => {
    expect(parse('[{"a":1},{"a":1},{"a":{"a":{"a":2}}}]')).toEqual({ error: null, value: [{ a: 1 }, { a: 1 }, { a: { a: { a: 2 } } }] });
    const tricky = '{"a:\\"{[,":"x:\\"}]","b":"\\\\","c\\\\":"\\\\\\"","constructor":"x"}';
    expect(parse(tricky)).toEqual({ error: null, value: JSON.parse(tricky) });
    expect(parse(Buffer.from('{"naïve":"€"}'))).toEqual({ error: null, value: { naïve: '€' } });
  });

  it('returns what JSON.parse returns for any JSON without repeated keys', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        const { error, value: parsed } = parse(text);
        if (/"(__proto__|constructor)"/.test(text)) return; // may be refused on purpose
        expect(error).toBeNull();
        expect(parsed).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses any object with a repeated key, wherever it sits', () => {
    const withObject = fc.jsonValue({ maxDepth: 3 }).map((value) => ({ holder: [value, { '~mark~': 0 }] }));
    fc.assert(
      fc.property(withObject, fc.string(), (value, key) => {
        fc.pre(key !== '__proto__' && key !== '~mark~');
        // the generated value may itself hold a prototype key, refused before the mark is reached
        fc.pre(!/"(__proto__|constructor)"/.test(JSON.stringify(value)));
        const text = JSON.stringify(value).replace('{"~mark~":0}', () => `{${JSON.stringify(key)}:1,"~mark~":0,${JSON.stringify(key)}:2}`);
        expect(refused(text)).toBe(key === '' ? 'holder[1][""]' : `holder[1].${key}`);
      }),
      { numRuns: 300 },
    );
  });

  it('still names the body when the text is empty or malformed', () => {
    expect(refused('  ')).toBe('body');
    expect(refused('{"a":1,}')).toBe('body');
  });
});

import { ConfigurationError } from './errors';
import { envBool, envChoice, envInt, envList, envString } from './env';

describe('environment parsing', () => {
  it('falls back to the default when a variable is unset or blank', () => {
    expect(envInt({}, 'PORT', 3000)).toBe(3000);
    expect(envInt({ PORT: '  ' }, 'PORT', 3000)).toBe(3000);
    expect(envString({}, 'HOST', '0.0.0.0')).toBe('0.0.0.0');
    expect(envBool({}, 'FLAG', true)).toBe(true);
  });

  it('parses well-formed values', () => {
    expect(envInt({ PORT: '8080' }, 'PORT', 3000)).toBe(8080);
    expect(envBool({ FLAG: 'no' }, 'FLAG', true)).toBe(false);
    expect(envChoice({ MODE: 'b' }, 'MODE', ['a', 'b'] as const, 'a')).toBe('b');
    expect(envList({ MODULES: 'ingestion, ledger,,' }, 'MODULES')).toEqual(['ingestion', 'ledger']);
  });

  it('rejects malformed values with an error naming the variable', () => {
    expect(() => envInt({ PORT: 'abc' }, 'PORT', 3000)).toThrow(ConfigurationError);
    expect(() => envInt({ PORT: 'abc' }, 'PORT', 3000)).toThrow(/PORT/);
    expect(() => envInt({ PORT: '70000' }, 'PORT', 3000, 0, 65535)).toThrow(/between 0 and 65535/);
    expect(() => envBool({ FLAG: 'maybe' }, 'FLAG', true)).toThrow(/FLAG/);
    expect(() => envChoice({ MODE: 'c' }, 'MODE', ['a', 'b'] as const, 'a')).toThrow(/one of a, b/);
  });
});

describe('environment parsing without a fallback (the library default applies)', () => {
  it('gives undefined for an unset or blank variable, the value otherwise', () => {
    expect(envInt({}, 'PORT')).toBeUndefined();
    expect(envBool({ FLAG: ' ' }, 'FLAG')).toBeUndefined();
    expect(envChoice({}, 'MODE', ['a', 'b'] as const)).toBeUndefined();
    expect(envInt({ PORT: '8080' }, 'PORT')).toBe(8080);
  });

  it.each(['0', 'no', 'off', 'false', 'FALSE', ' Off '])('reads %p as false, like every boolean', (value) => {
    expect(envBool({ FLAG: value }, 'FLAG')).toBe(false);
    expect(envBool({ FLAG: value }, 'FLAG', true)).toBe(false);
  });

  it('still refuses a malformed value, naming the variable', () => {
    expect(() => envInt({ PORT: 'soon' }, 'PORT')).toThrow('PORT must be an integer, got "soon"');
    expect(() => envBool({ FLAG: 'maybe' }, 'FLAG')).toThrow(/FLAG/);
  });
});

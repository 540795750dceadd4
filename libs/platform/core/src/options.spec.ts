import { ConfigurationError } from './errors';
import { resolveIntOptions } from './options';

const RULES = { batchSize: { default: 500, min: 1, max: 10_000 }, pollMs: { default: 1000, min: 10, max: 60_000 } };

describe('resolveIntOptions', () => {
  it('fills in the defaults of absent options and keeps the given ones', () => {
    expect(resolveIntOptions('DemoModule', RULES, {})).toEqual({ batchSize: 500, pollMs: 1000 });
    expect(resolveIntOptions('DemoModule', RULES, { pollMs: 10 })).toEqual({ batchSize: 500, pollMs: 10 });
  });

  it.each([0, 10_001, 1.5, Number.NaN])('refuses %p, naming the module and the option', (batchSize) => {
    const attempt = () => resolveIntOptions('DemoModule', RULES, { batchSize });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(`DemoModule option batchSize must be an integer between 1 and 10000, got ${batchSize}`);
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigurationError).context).toEqual({ owner: 'DemoModule', option: 'batchSize' });
    }
  });
});

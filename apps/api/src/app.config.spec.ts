import { ConfigurationError } from '@modulith/core';
import { appConfigFromEnv } from './app.config';

describe('MODULES', () => {
  it('runs every module when unset, the named ones when set, and none with "none"', () => {
    expect(appConfigFromEnv({}).modules).toBeUndefined();
    expect(appConfigFromEnv({ MODULES: 'ingestion, ledger' }).modules).toEqual(['ingestion', 'ledger']);
    expect(appConfigFromEnv({ MODULES: 'none' }).modules).toEqual([]);
  });

  it('refuses "none" beside module names, naming the variable', () => {
    expect(() => appConfigFromEnv({ MODULES: 'none,ledger' })).toThrow(ConfigurationError);
    expect(() => appConfigFromEnv({ MODULES: 'none,ledger' })).toThrow(/^MODULES=none names no module/);
  });

  it('refuses a list of nothing but commas (a template with its names left empty) instead of hosting no module unasked', () => {
    for (const value of [',', ' , ,']) {
      expect(() => appConfigFromEnv({ MODULES: value })).toThrow(ConfigurationError);
      expect(() => appConfigFromEnv({ MODULES: value })).toThrow(/^MODULES names no module/);
    }
  });
});

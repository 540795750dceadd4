import { ConfigurationError } from '@modulith/core';
import { resolveDatabaseOptions } from '@modulith/database';
import { databaseOptionsFromEnv } from './platform-options';

describe('databaseOptionsFromEnv: MIGRATE_ON_START', () => {
  it.each(['false', '0', 'no', 'off', 'FALSE', ' Off '])('"%s" means false, as for every other boolean', (value) => {
    expect(databaseOptionsFromEnv({ MIGRATE_ON_START: value }).migrateOnStart).toBe(false);
  });

  it.each(['true', '1', 'yes', 'on'])('"%s" means true', (value) => {
    expect(databaseOptionsFromEnv({ MIGRATE_ON_START: value }).migrateOnStart).toBe(true);
  });

  it('unset leaves the library default, which is true', () => {
    expect(databaseOptionsFromEnv({}).migrateOnStart).toBeUndefined();
    expect(resolveDatabaseOptions(databaseOptionsFromEnv({})).migrateOnStart).toBe(true);
  });

  it('refuses anything else, naming the variable, rather than migrating on a typo', () => {
    expect(() => databaseOptionsFromEnv({ MIGRATE_ON_START: 'nope' })).toThrow(ConfigurationError);
    expect(() => databaseOptionsFromEnv({ MIGRATE_ON_START: 'nope' })).toThrow(/MIGRATE_ON_START/);
  });
});

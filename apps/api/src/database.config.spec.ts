import { ConfigurationError } from '@modulith/core';
import { databaseOptionsFromEnv } from './database.config';

describe('databaseOptionsFromEnv: MIGRATE_ON_START', () => {
  it.each(['false', '0', 'no', 'off', 'FALSE', ' Off '])('"%s" means false, as for every other boolean', (value) => {
    expect(databaseOptionsFromEnv({ MIGRATE_ON_START: value }).migrateOnStart).toBe(false);
  });

  it.each(['true', '1', 'yes', 'on'])('"%s" means true', (value) => {
    expect(databaseOptionsFromEnv({ MIGRATE_ON_START: value }).migrateOnStart).toBe(true);
  });

  it('defaults to true', () => {
    expect(databaseOptionsFromEnv({}).migrateOnStart).toBe(true);
  });

  it('refuses anything else, naming the variable, rather than migrating on a typo', () => {
    expect(() => databaseOptionsFromEnv({ MIGRATE_ON_START: 'nope' })).toThrow(ConfigurationError);
    expect(() => databaseOptionsFromEnv({ MIGRATE_ON_START: 'nope' })).toThrow(/MIGRATE_ON_START/);
  });
});

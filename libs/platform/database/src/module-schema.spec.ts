import type { MigrationInterface } from 'typeorm';
import { ConfigurationError } from '@modulith/core';
import { defineModule, type ModuleDefinition } from './module-schema';

class Create0001 implements MigrationInterface {
  name = '0001-create';
  async up(): Promise<void> {
    // not run here
  }
  async down(): Promise<void> {
    // not run here
  }
}

describe('defineModule', () => {
  it('declares a module with its schema, entities and migrations once, frozen', () => {
    const definition = defineModule({ name: 'orders', schema: 'orders', migrations: [Create0001] });
    expect(definition).toEqual({ name: 'orders', schema: 'orders', migrations: [Create0001] });
    expect(Object.isFrozen(definition)).toBe(true);
  });

  it('declares a module without a schema with schema: false', () => {
    expect(defineModule({ name: 'notifications', schema: false })).toEqual({ name: 'notifications', schema: false });
  });

  it.each([
    ['a blank name', { name: ' ', schema: 'x' }, /name/],
    ['a schema that is not a lower-case SQL identifier', { name: 'x', schema: 'X-1' }, /lower-case SQL identifier/],
    ['entities without a schema', { name: 'x', schema: false, entities: [] }, /no schema/],
    ['migrations without a schema', { name: 'x', schema: false, migrations: [Create0001] }, /no schema/],
  ])('refuses %s with a ConfigurationError', (_case, definition, message) => {
    expect(() => defineModule(definition as ModuleDefinition)).toThrow(ConfigurationError);
    expect(() => defineModule(definition as ModuleDefinition)).toThrow(message);
  });
});

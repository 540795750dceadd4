import { moduleNames, pluralize, singularize } from './names';

describe('module names', () => {
  it('derives every spelling from a hyphenated name', () => {
    expect(moduleNames('fx-rates')).toEqual({
      name: 'fx-rates',
      className: 'FxRates',
      propertyName: 'fxRates',
      schema: 'fx_rates',
      entity: {
        fileName: 'fx-rate',
        className: 'FxRate',
        propertyName: 'fxRate',
        pluralFileName: 'fx-rates',
        pluralClassName: 'FxRates',
        pluralPropertyName: 'fxRates',
        table: 'fx_rates',
      },
      event: { className: 'FxRateCreated', fileName: 'fx-rate-created', type: 'fx-rates.fx-rate-created' },
      projects: { module: 'fx-rates', contracts: 'fx-rates-contracts' },
      roots: { module: 'libs/fx-rates/module', contracts: 'libs/fx-rates/contracts' },
      aliases: { module: '@modulith/fx-rates', contracts: '@modulith/fx-rates/contracts' },
    });
  });

  it.each([
    ['payments', 'payment'],
    ['entries', 'entry'],
    ['boxes', 'box'],
    ['addresses', 'address'],
    ['invoices', 'invoice'],
    ['status', 'status'],
    ['analysis', 'analysis'],
    ['billing', 'billing'],
  ])('makes %s singular as %s, and back', (plural, singular) => {
    expect(singularize(plural)).toBe(singular);
    if (plural !== singular) expect(pluralize(singular)).toBe(plural);
  });

  it('makes an event type the messaging platform accepts', () => {
    expect(moduleNames('payments').event.type).toMatch(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/);
  });
});

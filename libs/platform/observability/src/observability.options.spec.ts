import { ConfigurationError } from '@modulith/core';
import { ObservabilityModule } from './observability.module';
import { resolveObservabilityOptions } from './observability.options';

describe('observability options (defaults in the library)', () => {
  it('defaults the readiness and backlog bounds, keeps what is given', () => {
    expect(resolveObservabilityOptions()).toEqual({
      moduleNames: new Map(),
      readiness: { relayEnabled: true, timeoutMs: 2000 },
      backlog: { refreshMs: 10_000, readTimeoutMs: 5000 },
    });
    expect(resolveObservabilityOptions({ readiness: { relayEnabled: false }, backlog: { refreshMs: 50 } })).toMatchObject({
      readiness: { relayEnabled: false, timeoutMs: 2000 },
      backlog: { refreshMs: 50, readTimeoutMs: 5000 },
    });
  });

  it('forRoot refuses a bad option where the app is composed, naming it', () => {
    const attempt = () => ObservabilityModule.forRoot({ backlog: { refreshMs: 10 } });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow('ObservabilityModule option backlog.refreshMs must be an integer between 50 and 3600000, got 10');
  });

  it('forRootAsync keeps httpLogging out of the options and imports the request logger for it', () => {
    const definition = ObservabilityModule.forRootAsync({ useFactory: () => ({}), httpLogging: {} });
    expect(definition.global).toBe(true);
    expect(definition.imports?.length).toBe(3);
    expect(ObservabilityModule.forRootAsync({ useFactory: () => ({}) }).imports?.length).toBe(2);
  });
});

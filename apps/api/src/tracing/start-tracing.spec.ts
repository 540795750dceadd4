import { ConfigurationError } from '@modulith/core';
import { checkTracingEnv, isUntracedPath, startTracing, tracingWanted } from './start-tracing';

describe('tracingWanted', () => {
  it('is off unless an OTLP endpoint or a trace exporter is named', () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ OTEL_SERVICE_NAME: 'api', OTEL_TRACES_SAMPLER: 'always_on' })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
  });

  it('stays off when the SDK is disabled or the trace exporter is none', () => {
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });
});

describe('isUntracedPath', () => {
  it('leaves probes, scrapers, the console page and its polls, and the API docs untraced', () => {
    for (const url of ['/health', '/ready', '/ready?verbose=1', '/metrics', '/ops/state', '/', '/?x=1', '/docs', '/docs/', '/docs/swagger-ui.css', '/docs-json']) {
      expect([url, isUntracedPath(url)]).toEqual([url, true]);
    }
  });

  it('traces every other request', () => {
    for (const url of ['/transfers', '/transfers?limit=5', '/readyz', '/healthy', '/ops/state/x', '/documents', undefined]) {
      expect([url, isUntracedPath(url)]).toEqual([url, false]);
    }
  });
});

describe('checkTracingEnv', () => {
  it('accepts the OTLP protocols and http(s) endpoints', () => {
    expect(() => checkTracingEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318' })).not.toThrow();
    expect(() => checkTracingEnv({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4317' })).not.toThrow();
    expect(() => checkTracingEnv({})).not.toThrow();
  });

  it('names the variable of an unknown protocol or a malformed endpoint', () => {
    expect(() => checkTracingEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http' })).toThrow(ConfigurationError);
    expect(() => checkTracingEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
    expect(() => checkTracingEnv({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'json' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL/);
    expect(() => checkTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => checkTracingEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/);
  });

  it('is checked when tracing starts', () => {
    expect(() => startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'protobuf' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
  });
});

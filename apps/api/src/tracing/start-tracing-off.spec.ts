// With tracing off, none of the SDK may be loaded: each SDK package is replaced by a stand-in that
// fails when required (a unit test of the lazy require, not of the SDK; an eager import fails the suite).
jest.mock('@opentelemetry/sdk-node', () => {
  throw new Error('@opentelemetry/sdk-node loaded with tracing off');
});
jest.mock('@opentelemetry/instrumentation-http', () => {
  throw new Error('@opentelemetry/instrumentation-http loaded with tracing off');
});
jest.mock('@opentelemetry/instrumentation-ioredis', () => {
  throw new Error('@opentelemetry/instrumentation-ioredis loaded with tracing off');
});
jest.mock('@opentelemetry/instrumentation-pg', () => {
  throw new Error('@opentelemetry/instrumentation-pg loaded with tracing off');
});

import { startTracing } from './start-tracing';

describe('startTracing with tracing off', () => {
  it('loads no OpenTelemetry SDK package', () => {
    expect(startTracing({})).toBeUndefined();
    expect(startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  });
});

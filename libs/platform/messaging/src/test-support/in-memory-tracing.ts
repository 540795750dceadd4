// Tracing on, for a test: the OpenTelemetry SDK registered globally (AsyncLocalStorage context,
// W3C propagation) with every ended span kept in memory.
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface InMemoryTracing {
  /** Spans ended so far. */
  spans(): ReadableSpan[];
  reset(): void;
  /** Unregisters the SDK: tracing is off again for the rest of the test file. */
  stop(): Promise<void>;
}

export function startInMemoryTracing(): InMemoryTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return {
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    stop: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The span's parent span id ('' for a root), across SDK versions' shapes. */
export function parentSpanId(span: ReadableSpan): string {
  return span.parentSpanContext?.spanId ?? '';
}

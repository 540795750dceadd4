import { context, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import type { CallReply, CallRequest } from '../calls/call-wire';
import { producerContext, settle, traceFieldsOf, tracer, type TraceContextFields } from './message-tracing';

const attributesOf = (request: Pick<CallRequest, 'module' | 'type' | 'id'>): Attributes => ({
  'rpc.system': 'modulith',
  'rpc.service': request.module,
  'rpc.method': request.type,
  'modulith.module': request.module,
  'modulith.call.id': request.id,
});

/**
 * The caller's span of a remote call, a child of the active span, when one is recording (an
 * HTTP request, a handled event); `work` gets the trace fields to send with the request.
 * Tracing off or sampled out: no span, no fields.
 */
export function traceCallSend<T>(request: Pick<CallRequest, 'module' | 'type' | 'id'>, work: (fields?: TraceContextFields) => Promise<T>): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return work(undefined);
  return tracer().startActiveSpan(`call ${request.type}`, { kind: SpanKind.CLIENT, attributes: attributesOf(request) }, (span) =>
    settle(span, () => work(traceFieldsOf(trace.setSpan(context.active(), span)))),
  );
}

/** The serving replica's span of a remote call, continuing the caller's trace; none when the request carries no trace context. */
export function traceCallServe(request: CallRequest & TraceContextFields, work: () => Promise<CallReply>): Promise<CallReply> {
  if (request.traceparent === undefined) return work();
  return tracer().startActiveSpan(
    `serve ${request.type}`,
    { kind: SpanKind.SERVER, attributes: attributesOf(request) },
    producerContext(request),
    (span) => settle(span, work, (reply) => (reply.ok ? undefined : new Error(`${reply.error.name}: ${reply.error.message}`))),
  );
}

// main.ts imports this first: the SDK must be started before pg, ioredis and http are required
// (the instrumentations patch them as they load; webpack leaves npm packages as runtime requires).
import { startTracing } from './start-tracing';

/** The OpenTelemetry SDK of this process, to flush at shutdown; undefined when tracing is off. */
export const tracing = startTracing(process.env);

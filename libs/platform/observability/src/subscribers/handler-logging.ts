import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { SubscriberCatalog } from './subscriber-catalog';

type Handler = (this: unknown, first: unknown, ...rest: unknown[]) => unknown;

/**
 * Logs one debug line per event-handler call, under the consuming module's name: the platform
 * runs each call inside the event's correlation context, so the line carries the correlation id
 * of the request that caused the event, in whichever process handles it.
 *
 * Stopgap: it wraps the subscriber methods of this process's providers. Once the messaging
 * platform logs its handler calls itself (see this library's README), delete this class.
 */
@Injectable()
export class HandlerLogging implements OnModuleInit {
  constructor(private readonly catalog: SubscriberCatalog) {}

  onModuleInit(): void {
    for (const info of this.catalog.subscribers) {
      const target = info.instance as Record<string, Handler>;
      const original = target[info.method];
      if (typeof original !== 'function' || Object.prototype.hasOwnProperty.call(target, info.method)) continue;
      const logger = new Logger(info.module);
      const describe = `${info.eventType} (${info.subscriber})`;
      // An own property shadows the prototype's method; the platform calls through the instance.
      Object.defineProperty(target, info.method, {
        configurable: true,
        writable: true,
        value: async function (this: unknown, first: unknown, ...rest: unknown[]): Promise<unknown> {
          const started = performance.now();
          const result = await original.call(this, first, ...rest);
          const events = Array.isArray(first) ? first.length : 1;
          logger.debug(`handled ${events} ${describe} in ${(performance.now() - started).toFixed(1)} ms`);
          return result;
        },
      });
    }
  }
}

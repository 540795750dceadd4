import type { DiscoveryService } from '@nestjs/core';
import type { PublicCall } from '@modulith/core';
import { assertPlainResult, payloadOf } from './call-payload';

type Handler = { execute(message: object): Promise<unknown> };

/**
 * Tests only (`CALL_CHECK_IN_PROCESS`, on in `messagingTestConfig`): makes the handlers of public
 * messages hosted here check, on every in-process call, what a remote call would refuse: a
 * message or a result that is not plain JSON fails with `CallPayloadError`, in the module's own
 * tests, long before a split deployment meets it. Wraps each handler instance's `execute`, so it
 * holds however the bus registered the handler. Never on in production: in process stays a plain call.
 */
export function checkPublicHandlersInProcess(discovery: DiscoveryService, calls: readonly PublicCall[]): number {
  let wrapped = 0;
  for (const wrapper of discovery.getProviders()) {
    const metatype = wrapper.metatype as object | null | undefined;
    const instance = wrapper.instance as Partial<Handler> | undefined;
    if (!metatype || typeof instance?.execute !== 'function') continue;
    // The handler decorator keeps the message class in the handler class's metadata.
    const call = calls.find((candidate) => Reflect.getMetadataKeys(metatype).some((key) => Reflect.getMetadata(key, metatype) === candidate.target));
    if (!call) continue;
    const execute = instance.execute.bind(instance);
    instance.execute = async (message: object): Promise<unknown> => {
      payloadOf(message, call);
      const result = await execute(message);
      assertPlainResult(result, call);
      return result;
    };
    wrapped += 1;
  }
  return wrapped;
}

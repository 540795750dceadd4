import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { CommandBus, CommandHandler, QueryBus, QueryHandler } from '@nestjs/cqrs';
import type { PublicCall } from '@modulith/core';

/** Sends a public message to wherever its module runs and resolves with the remote result. */
export type RemoteSend = (call: PublicCall, message: object) => Promise<unknown>;

/**
 * Registers a handler for `call`'s message class on each of this process's buses that forwards it with
 * `send`: `bus.execute(new X())` is then the same call site wherever X's module runs. Uses only
 * the buses' public registration (a handler class decorated like any other), so the bus keeps
 * its own id for the class, or gives it one.
 */
export function bindRemoteHandler(
  call: PublicCall,
  send: RemoteSend,
  buses: { queryBuses: readonly QueryBus[]; commandBuses: readonly CommandBus[] },
): void {
  const RemoteHandler = class {
    execute(message: object): Promise<unknown> {
      return send(call, message);
    }
  };
  Object.defineProperty(RemoteHandler, 'name', { value: `Remote${call.target.name}Handler` });
  const wrapper = { metatype: RemoteHandler, instance: new RemoteHandler(), isDependencyTreeStatic: () => true } as unknown as InstanceWrapper<never>;
  if (call.kind === 'query') {
    QueryHandler(call.target as never)(RemoteHandler);
    for (const bus of buses.queryBuses) bus.register([wrapper]);
  } else {
    CommandHandler(call.target as never)(RemoteHandler);
    for (const bus of buses.commandBuses) bus.register([wrapper]);
  }
}

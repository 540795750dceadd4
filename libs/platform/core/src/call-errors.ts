import { ModulithError } from './errors';

/**
 * No live process hosts the module that answers this command or query (or the in-process
 * transport is configured and the module is not loaded here). Nothing was executed.
 * `context.module` names the module.
 */
export class ModuleNotHostedError extends ModulithError {
  readonly code = 'MODULE_NOT_HOSTED';

  constructor(readonly module: string, messageType: string, hint = 'start a process whose MODULES includes it') {
    super(`module "${module}" is not running in any process, so ${messageType} cannot be answered: ${hint}`, { module, messageType });
  }
}

/**
 * A remote command or query got no reply by its deadline: it waited too long in the queue, the
 * handler was slow, or the reply was lost. For a command the outcome is unknown (it may have
 * been applied). `context`: module, messageType, deadline (epoch ms), requestId.
 */
export class CallDeadlineExceededError extends ModulithError {
  readonly code = 'CALL_DEADLINE_EXCEEDED';
}

/**
 * The replica serving a remote call stopped (its presence lapsed) before it replied. Queries
 * are sent again to another replica while the deadline allows, so this reaches callers of
 * commands, whose outcome is unknown (the command may have been applied). `context`: module,
 * messageType, replica, requestId.
 */
export class ReplicaLostError extends ModulithError {
  readonly code = 'REPLICA_LOST';
}

/**
 * A remote handler failed with an error that has no typed counterpart here (a bug, a database
 * outage, a result that is not plain JSON). `context`: module, messageType, remoteName,
 * remoteCode (if any), requestId. Maps to HTTP 500.
 */
export class RemoteHandlerError extends ModulithError {
  readonly code = 'REMOTE_HANDLER_FAILED';
}

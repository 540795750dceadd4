/**
 * @modulith/core — the few base types every platform library and module shares:
 * typed errors, environment parsing (for apps), option checks (for libraries' `forRoot`),
 * time-ordered ids, the clock, a bounded queue, and the declarations of public
 * commands and queries (`@PublicQuery`, `@PublicCommand`) with their call deadline.
 */
export {
  ModulithError,
  ValidationError,
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  ConfigurationError,
} from './errors';
export type { ErrorContext } from './errors';
export { envString, envInt, envBool, envChoice, envList } from './env';
export { resolveIntOptions, optionError } from './options';
export type { IntOptionRule } from './options';
export { uuidv7 } from './uuid-v7';
export { systemClock, CLOCK, ManualClock } from './clock';
export type { Clock } from './clock';
export { BoundedQueue } from './bounded-queue';
export type { OverflowPolicy } from './bounded-queue';
export { runWithCorrelation, currentCorrelation } from './correlation';
export type { CorrelationContext } from './correlation';
export { PublicQuery, PublicCommand, publicCalls, publicCallOf, publicCallByType } from './public-call';
export type { PublicCall, PublicCallClass, PublicCallKind, PublicCallOptions } from './public-call';
export { withCallDeadline, withCallDeadlineAt, currentCallDeadline } from './call-deadline';
export { ModuleNotHostedError, CallDeadlineExceededError, ReplicaLostError, RemoteHandlerError } from './call-errors';

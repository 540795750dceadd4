/** Context attached to an error: plain values that help whoever reads the log. */
export type ErrorContext = Record<string, unknown>;

/**
 * Base of every error the platform and its modules throw on purpose. `code` is stable and
 * machine-readable; `context` carries the values that explain what went wrong.
 */
export abstract class ModulithError extends Error {
  abstract readonly code: string;

  constructor(
    message: string,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that breaks a rule. `field` names the offending field as a path, e.g. `transfers[3].amount`. */
export class ValidationError extends ModulithError {
  readonly code = 'VALIDATION_FAILED';

  constructor(
    readonly field: string,
    reason: string,
    context: ErrorContext = {},
  ) {
    super(field ? `${field}: ${reason}` : reason, { field, ...context });
  }
}

/** The request is well-formed but contradicts what is already stored. */
export class ConflictError extends ModulithError {
  readonly code = 'CONFLICT';
}

/** The thing asked for does not exist. */
export class NotFoundError extends ModulithError {
  readonly code = 'NOT_FOUND';
}

/** The request carries more than a configured limit allows. */
export class PayloadTooLargeError extends ModulithError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

/** A configuration value (a module option, or the environment variable an app maps to one) is missing or malformed. */
export class ConfigurationError extends ModulithError {
  readonly code = 'CONFIGURATION_INVALID';
}

import { ConfigurationError } from './errors';

/** Whether a public message is a query (read, safe to send again) or a command (changes state). */
export type PublicCallKind = 'query' | 'command';

/** What `@PublicQuery` / `@PublicCommand` declare: the owning module and a stable wire name. */
export interface PublicCallOptions {
  /** The module whose handler answers, by the name `MODULES` and `MessagingModule.forModule` use, e.g. `ledger`. */
  module: string;
  /** Stable wire name, e.g. `ledger.get-balance`; never `constructor.name` (minifiers and renames change it). */
  type: string;
}

/** A class of the process-wide catalog of public commands and queries. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PublicCallClass = abstract new (...args: any[]) => object;

/** One catalog entry: who answers the message, under which wire name. */
export interface PublicCall extends PublicCallOptions {
  kind: PublicCallKind;
  target: PublicCallClass;
}

const MODULE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const TYPE_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const catalog = new Map<string, PublicCall>();
const byClass = new Map<PublicCallClass, PublicCall>();

/**
 * Declares a query of a contracts library as callable from any process: `queryBus.execute(new
 * GetBalanceQuery(account))` then reaches the owning module wherever it runs (in this process, a
 * plain bus call; elsewhere, over the configured transport). The query's own enumerable fields
 * are its payload: plain JSON only (amounts as strings; no bigint, Date, undefined or functions).
 * Throws `ConfigurationError` at import when `type` is already taken by another class, or when
 * `module` / `type` are malformed.
 */
export function PublicQuery(options: PublicCallOptions): ClassDecorator {
  return (target) => declare('query', options, target as unknown as PublicCallClass);
}

/**
 * Declares a command of a contracts library as callable from any process (see `PublicQuery`).
 * A remote command carries an idempotency key: its handler's effect is applied once even if the
 * request is delivered twice, provided the handler does its writes in one `Database.transaction`.
 */
export function PublicCommand(options: PublicCallOptions): ClassDecorator {
  return (target) => declare('command', options, target as unknown as PublicCallClass);
}

/** Every public command and query whose class was imported in this process. */
export function publicCalls(): readonly PublicCall[] {
  return [...catalog.values()];
}

/** The catalog entry of `target` (a class or an instance of it), or undefined when it is not public. */
export function publicCallOf(target: object): PublicCall | undefined {
  const type = typeof target === 'function' ? target : target.constructor;
  return byClass.get(type as PublicCallClass);
}

/** The catalog entry with wire name `type`, or undefined. */
export function publicCallByType(type: string): PublicCall | undefined {
  return catalog.get(type);
}

function declare(kind: PublicCallKind, { module, type }: PublicCallOptions, target: PublicCallClass): void {
  const context = { module, type, class: target.name };
  if (!MODULE_NAME.test(module)) throw new ConfigurationError(`@Public${label(kind)} on ${target.name}: module "${module}" must be a lower-case module name`, context);
  if (!TYPE_NAME.test(type)) {
    throw new ConfigurationError(`@Public${label(kind)} on ${target.name}: type "${type}" must be 1-128 of lower-case letters, digits and ._-`, context);
  }
  const existing = catalog.get(type);
  // The same file evaluated again (a test runner's fresh module registry) replaces its entry.
  if (existing && !(existing.target.name === target.name && existing.module === module && existing.kind === kind)) {
    throw new ConfigurationError(`public ${kind} type "${type}" is declared twice: by ${existing.target.name} and by ${target.name}`, {
      ...context,
      other: existing.target.name,
    });
  }
  if (existing) byClass.delete(existing.target);
  const entry: PublicCall = { kind, module, type, target };
  catalog.set(type, entry);
  byClass.set(target, entry);
}

function label(kind: PublicCallKind): string {
  return kind === 'query' ? 'Query' : 'Command';
}

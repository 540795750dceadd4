import { ConfigurationError } from './errors';

// The one parser of environment variables, for apps and tools: libraries take options
// (`forRoot`) and never read the environment (a lint rule keeps them from calling these).
// Without a fallback a reader returns undefined for an unset variable, so the library's own
// default applies.

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Reads a string variable, or the default when it is unset or blank. */
export function envString(env: Env, name: string, fallback: string): string;
export function envString(env: Env, name: string): string | undefined;
export function envString(env: Env, name: string, fallback?: string): string | undefined {
  return raw(env, name) ?? fallback;
}

/** Reads an integer variable within [min, max]; a malformed value fails fast with its name. */
export function envInt(env: Env, name: string, fallback: number, min?: number, max?: number): number;
export function envInt(env: Env, name: string): number | undefined;
export function envInt(env: Env, name: string, fallback?: number, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) {
    throw new ConfigurationError(`${name} must be an integer, got "${value}"`, { variable: name });
  }
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigurationError(`${name} must be between ${min} and ${max}, got ${value}`, { variable: name });
  }
  return parsed;
}

/** Reads a boolean variable: true/1/yes/on or false/0/no/off, any case. */
export function envBool(env: Env, name: string, fallback: boolean): boolean;
export function envBool(env: Env, name: string): boolean | undefined;
export function envBool(env: Env, name: string, fallback?: boolean): boolean | undefined {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigurationError(`${name} must be true or false, got "${value}"`, { variable: name });
}

/** Reads one of a fixed set of values. */
export function envChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T;
export function envChoice<T extends string>(env: Env, name: string, choices: readonly T[]): T | undefined;
export function envChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback?: T): T | undefined {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigurationError(`${name} must be one of ${choices.join(', ')}, got "${value}"`, { variable: name });
  }
  return value as T;
}

/** Reads a comma-separated list; blank entries are dropped. */
export function envList(env: Env, name: string): string[] | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

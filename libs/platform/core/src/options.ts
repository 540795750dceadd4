import { ConfigurationError } from './errors';

/** Default and inclusive bounds of one integer option. */
export interface IntOptionRule {
  default: number;
  min: number;
  max: number;
}

/**
 * A `ConfigurationError` about one option of a module's `forRoot`, e.g.
 * `MessagingModule option relayBatchSize must be ...`; `context.owner` and `context.option` name
 * them so a host app can say which of its own settings (an environment variable, say) it came from.
 */
export function optionError(owner: string, option: string, reason: string): ConfigurationError {
  return new ConfigurationError(`${owner} option ${option} ${reason}`, { owner, option });
}

/**
 * The integer options of `given`, each defaulted by `rules` when absent and checked against its
 * bounds. Throws `optionError` naming the first option that is not a safe integer in range
 * (`prefix` goes before the name, for nested options: `rateLimit.`). Options not in `rules` are
 * ignored.
 */
export function resolveIntOptions<R extends Record<string, IntOptionRule>>(
  owner: string,
  rules: R,
  given: { readonly [K in keyof R]?: number },
  prefix = '',
): { [K in keyof R]: number } {
  const resolved = {} as { [K in keyof R]: number };
  for (const name of Object.keys(rules) as (keyof R & string)[]) {
    const { default: fallback, min, max } = rules[name];
    const value = given[name] ?? fallback;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw optionError(owner, `${prefix}${name}`, `must be an integer between ${min} and ${max}, got ${String(value)}`);
    }
    resolved[name] = value;
  }
  return resolved;
}

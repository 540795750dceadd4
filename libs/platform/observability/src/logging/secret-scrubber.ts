/** Replaces the password of every `scheme://user:password@host` URL, e.g. a DATABASE_URL. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)[^\s@/?#]+@/gi;

export const REDACTED = '[redacted]';

/**
 * A function that masks secrets inside a string: passwords in connection URLs, and each of
 * `secrets` (values such as the admin token) wherever they appear.
 */
export function secretScrubber(secrets: readonly (string | undefined)[] = []): (text: string) => string {
  // Very short values would mask ordinary words; such a secret is not worth the name anyway.
  const values = secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length >= 6);
  return (text) => {
    let scrubbed = text.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
    for (const value of values) if (scrubbed.includes(value)) scrubbed = scrubbed.split(value).join(REDACTED);
    return scrubbed;
  };
}

/**
 * A log row's `logged_at` (its claim's transaction start) as whole microseconds since the epoch,
 * in SQL: exact, and the same text whatever the session's time zone or date style. It names the
 * claim that wrote the row among any other that took the same position: a claim commits
 * asynchronously, so a server crash can lose it and give its positions out again (see
 * `AppendedClaim.loggedAt`).
 */
export function loggedAtMicros(column: string): string {
  return `(extract(epoch FROM ${column}) * 1000000)::bigint`;
}

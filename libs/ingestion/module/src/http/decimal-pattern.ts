/**
 * A regular expression (source, anchored) matching the positive decimal integers from 1 to
 * `max`, written without sign or leading zeros: JSON Schema has no `maximum` for a string, so
 * the document states the amount limit this way.
 */
export function decimalPatternUpTo(max: bigint): string {
  const digits = max.toString();
  // Shorter numbers, then for each position: the same prefix, a smaller digit, anything after.
  const alternatives = digits.length > 1 ? [`[1-9][0-9]{0,${digits.length - 2}}`] : [];
  for (let i = 0; i < digits.length; i++) {
    const low = i === 0 ? 1 : 0;
    const high = Number(digits[i]) - 1;
    if (high < low) continue;
    const rest = digits.length - i - 1;
    alternatives.push(`${digits.slice(0, i)}[${low}-${high}]${rest ? `[0-9]{${rest}}` : ''}`);
  }
  alternatives.push(digits);
  return `^(?:${alternatives.join('|')})$`;
}

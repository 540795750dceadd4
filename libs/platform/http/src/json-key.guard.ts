import { ValidationError } from '@modulith/core';
import { fieldPath } from './request-reader';

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;

/**
 * Refuses a parsed JSON body whose text repeats a key within one object (at any depth, also when
 * the repeats differ only in escapes: `"amount"` and `"\u0061mount"`), or holds a key that can
 * reach an object's prototype (`__proto__`, or `constructor` holding `prototype`).
 *
 * `JSON.parse` keeps the last of repeated keys, while a proxy, a log or a signature check in
 * front of us may read the first: for money the two must never disagree on what was sent.
 * `text` must be what produced `value` (so it is valid JSON). The common case costs one pass
 * over the text and one over the value: the keys written in the text are counted and compared
 * with the keys the parsed value holds; only when they differ, or a prototype key is present,
 * is the text walked again to name the offending key with its path (`transfers[3].amount`).
 *
 * @throws ValidationError naming the repeated or forbidden key.
 */
export function guardJsonKeys(text: string, value: unknown): void {
  const parsed = { keys: 0, prototypeKey: false };
  countParsedKeys(value, parsed);
  if (parsed.prototypeKey || parsed.keys !== countWrittenKeys(text)) locateBadKey(text, value);
}

/** Every `:` outside a string follows a key, since the text is valid JSON. */
function countWrittenKeys(text: string): number {
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === BACKSLASH) i++;
      else if (char === QUOTE) inString = false;
    } else if (char === QUOTE) inString = true;
    else if (char === COLON) keys++;
  }
  return keys;
}

function countParsedKeys(value: unknown, into: { keys: number; prototypeKey: boolean }): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) countParsedKeys(item, into);
    }
    return;
  }
  // for...in is several times faster than Object.keys here; a JSON.parse object inherits
  // nothing enumerable (if something polluted Object.prototype, the counts differ and the
  // exact walk below decides).
  for (const key in value as object) {
    into.keys++;
    const item: unknown = (value as Record<string, unknown>)[key];
    if (key === '__proto__' || (key === 'constructor' && typeof item === 'object' && item !== null && 'prototype' in item)) into.prototypeKey = true;
    if (typeof item === 'object' && item !== null) countParsedKeys(item, into);
  }
}

interface Container {
  path: string;
  /** Keys seen so far in an object; undefined for an array. */
  keys?: Set<string>;
  /** The key whose value comes next (object) or the index of the current item (array). */
  at: string | number;
}

/** Walks the text token by token, tracking the path, and throws at the first bad key. */
function locateBadKey(text: string, value: unknown): void {
  const open: Container[] = [];
  const childPath = (): string => {
    const parent = open[open.length - 1];
    return parent ? fieldPath(parent.path, parent.at) : '';
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '{') open.push({ path: childPath(), keys: new Set(), at: '' });
    else if (char === '[') open.push({ path: childPath(), at: 0 });
    else if (char === '}' || char === ']') open.pop();
    else if (char === ',') {
      const parent = open[open.length - 1];
      if (parent && !parent.keys) parent.at = (parent.at as number) + 1;
    } else if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      let next = end + 1;
      while (text[next] === ' ' || text[next] === '\n' || text[next] === '\r' || text[next] === '\t') next++;
      const parent = open[open.length - 1];
      if (text[next] === ':' && parent?.keys) {
        // Decoding escapes makes "\u0061mount" the same key as "amount".
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (parent.keys.has(key)) throw new ValidationError(fieldPath(parent.path, key), 'is sent more than once; send each key once');
        if (key === '__proto__') throw new ValidationError(fieldPath(parent.path, key), 'is not an allowed key');
        parent.keys.add(key);
        parent.at = key;
      }
      i = end;
    }
  }
  const poisoned = findConstructorPrototype(value, '');
  if (poisoned !== undefined) throw new ValidationError(poisoned, 'is not an allowed key');
}

/** Path of a `constructor` key that holds a `prototype`, if any. */
function findConstructorPrototype(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const itemPath = fieldPath(path, Array.isArray(value) ? Number(key) : key);
    if (key === 'constructor' && typeof item === 'object' && item !== null && 'prototype' in item) return itemPath;
    const found = findConstructorPrototype(item, itemPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

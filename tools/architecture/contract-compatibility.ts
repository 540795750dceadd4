/**
 * Whether an event's JSON Schema may change without a new version. The rule: **every payload the
 * old schema accepts, the new one accepts too** (events already stored, in the outbox, a retry or
 * a dead letter stay readable), **and no field consumers read loses its meaning** (nothing is
 * removed or made optional, no type changes). So these are compatible: a new optional field, a
 * wider enum or union, a looser length or range, a changed description; and these are not:
 *
 * | change | why |
 * |---|---|
 * | field removed | consumers read it |
 * | field made optional | consumers expect it |
 * | new required field, optional field made required | stored events lack it |
 * | type changed (other than integer to number) | both sides misread it |
 * | enum / union / const narrowed or changed | stored events carry the old values |
 * | min raised, max lowered (length, items, value) | stored events may break it |
 * | pattern or format changed | cannot be proven wider, so counted as narrower |
 * | extra properties forbidden (`additionalProperties: false`) | stored events may carry some |
 * | any other keyword changed | unknown keywords count as narrowing |
 *
 * A consumer still on the old schema validates new payloads with it: widen a field only once
 * every consumer runs the new contracts (or publish a new version).
 */
export interface Incompatibility {
  /** The field, as `amount`, `lines[].qty`, or `(payload)` for the whole payload. */
  field: string;
  reason: string;
}

type Schema = Record<string, unknown>;

/** Keywords that document a schema without constraining it. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'examples', 'default', '$comment']);
const HANDLED = new Set(['type', 'properties', 'required', 'additionalProperties', 'items', 'anyOf', 'enum', 'const', 'pattern', 'format']);
const LOWER_BOUNDS = ['minLength', 'minItems', 'minimum', 'exclusiveMinimum', 'minProperties'];
const UPPER_BOUNDS = ['maxLength', 'maxItems', 'maximum', 'exclusiveMaximum', 'maxProperties'];

/** What makes `next` incompatible with `previous` under the rule above; empty when compatible. */
export function incompatibilities(previous: unknown, next: unknown): Incompatibility[] {
  const found: Incompatibility[] = [];
  compare(previous as Schema, next as Schema, '', (field, reason) => found.push({ field: field || '(payload)', reason }));
  return found;
}

type Report = (field: string, reason: string) => void;

function compare(before: Schema, after: Schema, field: string, report: Report): void {
  const [was, is] = [typesOf(before), typesOf(after)];
  if (is && (!was || was.some((type) => !is.includes(type) && !(type === 'integer' && is.includes('number'))))) {
    report(field, `type changed from ${describeType(was)} to ${describeType(is)}`);
    return;
  }
  compareObject(before, after, field, report);
  if (isSchema(before.items) && isSchema(after.items)) compare(before.items, after.items, `${field}[]`, report);
  compareChoices(before, after, field, report);
  for (const keyword of ['pattern', 'format'] as const) {
    if (!sameValue(before[keyword], after[keyword])) report(field, `${keyword} changed from ${show(before[keyword])} to ${show(after[keyword])}`);
  }
  compareBounds(before, after, field, report);
  const others = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const keyword of others) {
    if (ANNOTATIONS.has(keyword) || HANDLED.has(keyword) || LOWER_BOUNDS.includes(keyword) || UPPER_BOUNDS.includes(keyword)) continue;
    if (!sameValue(before[keyword], after[keyword])) report(field, `keyword ${keyword} changed from ${show(before[keyword])} to ${show(after[keyword])}`);
  }
}

function compareObject(before: Schema, after: Schema, field: string, report: Report): void {
  const beforeProperties = (before.properties ?? {}) as Record<string, Schema>;
  const afterProperties = (after.properties ?? {}) as Record<string, Schema>;
  const beforeRequired = new Set((before.required ?? []) as string[]);
  const afterRequired = new Set((after.required ?? []) as string[]);
  const at = (name: string) => (field ? `${field}.${name}` : name);
  for (const name of Object.keys(beforeProperties)) {
    if (!(name in afterProperties)) report(at(name), 'removed');
    else if (beforeRequired.has(name) && !afterRequired.has(name)) report(at(name), 'made optional');
    else if (!beforeRequired.has(name) && afterRequired.has(name)) report(at(name), 'made required');
    else compare(beforeProperties[name], afterProperties[name], at(name), report);
  }
  for (const name of Object.keys(afterProperties)) {
    if (!(name in beforeProperties) && afterRequired.has(name)) report(at(name), 'new required field');
  }
  if (before.additionalProperties !== false && after.additionalProperties === false) report(field, 'extra properties now forbidden');
}

/** `enum`, `const` and `anyOf` (TypeBox writes a union of literals as `anyOf` of `const`s): nothing the old one allowed may go. */
function compareChoices(before: Schema, after: Schema, field: string, report: Report): void {
  const beforeChoices = choices(before);
  const afterChoices = choices(after);
  if (!beforeChoices) {
    if (afterChoices) report(field, `narrowed to ${afterChoices.map(show).join(' | ')}`);
    return;
  }
  if (!afterChoices) return; // widened to anything of its type
  const removed = beforeChoices.filter((choice) => !afterChoices.some((other) => sameValue(choice, other)));
  if (removed.length > 0) report(field, `narrowed: no longer allows ${removed.map(show).join(', ')}`);
}

function choices(schema: Schema): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum;
  if ('const' in schema) return [schema.const];
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map((variant) => ('const' in variant ? variant.const : withoutAnnotations(variant)));
  return undefined;
}

function compareBounds(before: Schema, after: Schema, field: string, report: Report): void {
  for (const keyword of LOWER_BOUNDS) {
    const [was, is] = [before[keyword] as number | undefined, after[keyword] as number | undefined];
    if (is !== undefined && (was === undefined || is > was)) report(field, `${keyword} raised from ${show(was)} to ${is}`);
  }
  for (const keyword of UPPER_BOUNDS) {
    const [was, is] = [before[keyword] as number | undefined, after[keyword] as number | undefined];
    if (is !== undefined && (was === undefined || is < was)) report(field, `${keyword} lowered from ${show(was)} to ${is}`);
  }
}

/** The JSON types a schema allows (a union's are its variants'), or undefined for any. */
function typesOf(schema: Schema): string[] | undefined {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (!Array.isArray(schema.anyOf)) return undefined;
  const variants = (schema.anyOf as Schema[]).map(typesOf);
  return variants.some((types) => types === undefined) ? undefined : [...new Set(variants.flat() as string[])].sort();
}

function describeType(types: string[] | undefined): string {
  return types ? types.map((type) => JSON.stringify(type)).join(' | ') : 'any';
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutAnnotations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAnnotations);
  if (!isSchema(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !ANNOTATIONS.has(key))
      .map(([key, item]) => [key, withoutAnnotations(item)]),
  );
}

function sameValue(a: unknown, b: unknown): boolean {
  return canonical(withoutAnnotations(a)) === canonical(withoutAnnotations(b));
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isSchema(value)) return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'undefined';
}

function show(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}

/**
 * Schema-qualified names in SQL text, read the way PostgreSQL's lexer reads them (see "Lexical
 * Structure" in the PostgreSQL manual): whitespace and comments may sit around the dot
 * (`ledger . entries`, `ledger/* x *\/.entries`), unquoted names fold to lower case (`LEDGER.x`),
 * quoted ones keep their case (`"ledger"."x"`; `"LEDGER"` is another schema), and
 * `U&"\006Cedger"` (or `U&"!006Cedger" UESCAPE '!'`) spells a name in escapes. String constants
 * (`'…'`, `E'…'`) and dollar-quoted bodies (`$$…$$`) are read as SQL too: they become SQL in
 * `EXECUTE`, `DO`, a function body or `query_to_xml`.
 *
 * Text folded from source code may hold holes: parts whose value the source does not give (a
 * template hole or an operand of `+` that is not a known constant), written as
 * `HOLE_START text HOLE_END`. A hole in the place of a schema is a schema computed at run time.
 */

export const HOLE_START = '\u0000';
export const HOLE_END = '\u0001';

type Token = { kind: 'name' | 'hole'; value: string; start: number; end: number } | { kind: 'dot' | 'other'; start: number; end: number };

export interface QualifiedName {
  /** The schema as PostgreSQL resolves it, or the source text of the hole that computes it. */
  schema: string;
  computed: boolean;
}

const DOLLAR_TAG = /^\$([A-Za-z_]\w*)?\$/;

/**
 * Every `schema.name` in `sql` (also `schema.*`). Two spellings are not SQL and do not count:
 * kebab case after the dot (`ingestion.transfer-ingested`, an event type or subscriber name), and
 * a host in a URL or an e-mail address (`https://ledger.example.com`, `ops@ledger.example`).
 */
export function qualifiedNames(sql: string): QualifiedName[] {
  const tokens = tokenize(sql, 0, sql.length);
  const found: QualifiedName[] = [];
  for (let i = 0; i + 2 < tokens.length; i++) {
    const [schema, dot, object] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (dot.kind !== 'dot' || (schema.kind !== 'name' && schema.kind !== 'hole')) continue;
    if (object.kind !== 'name' && object.kind !== 'hole' && !(object.kind === 'other' && sql[object.end - 1] === '*')) continue;
    if (object.kind === 'name' && /^-[a-z]/i.test(sql.slice(object.end, object.end + 2))) continue;
    if (sql.slice(Math.max(0, schema.start - 2), schema.start) === '//' || sql[schema.start - 1] === '@') continue;
    found.push({ schema: schema.value, computed: schema.kind === 'hole' });
  }
  return found;
}

/**
 * Whether `sql` changes the schema search path: `search_path` anywhere (`SET`, `SET LOCAL`,
 * `set_config('search_path', …)`, `ALTER ROLE … SET`), its alias `SET [LOCAL | SESSION] SCHEMA`,
 * or a `set_config` whose setting is not a plain string constant (`'search' || '_path'`).
 */
export function setsSearchPath(sql: string): boolean {
  return /search_path|\bset\s+(?:(?:local|session)\s+)?schema\b|\bset_config\s*\(\s*(?!'[a-z_.]+'\s*,)/i.test(sql);
}

/** The tokens of `sql` from `from` to `to`, string constants and dollar bodies read as SQL too. */
function tokenize(sql: string, from: number, to: number): Token[] {
  const tokens: Token[] = [];
  let i = from;
  while (i < to) {
    const char = sql[i];
    const start = i;
    if (/\s/.test(char)) i++;
    else if (sql.startsWith('--', i)) i = Math.min(to, lineEnd(sql, i));
    else if (sql.startsWith('/*', i)) i = Math.min(to, commentEnd(sql, i));
    else if (char === HOLE_START) {
      const end = sql.indexOf(HOLE_END, i);
      const stop = end === -1 || end >= to ? to : end + 1;
      tokens.push({ kind: 'hole', value: sql.slice(i + 1, stop - 1), start, end: stop });
      i = stop;
    } else if (char === "'") {
      // E'…' takes backslash escapes; in `name'…'` the e ends an identifier, not an E prefix.
      const end = Math.min(to, stringEnd(sql, i, /(^|[^\w$])[eE]$/.test(sql.slice(Math.max(from, i - 2), i))));
      tokens.push(...tokenize(sql, i + 1, Math.max(i + 1, end - 1)));
      i = end;
    } else if (char === '$' && DOLLAR_TAG.test(sql.slice(i, i + 64))) {
      const tag = (DOLLAR_TAG.exec(sql.slice(i, i + 64)) as RegExpExecArray)[0];
      const close = sql.indexOf(tag, i + tag.length);
      const bodyEnd = close === -1 || close >= to ? to : close;
      tokens.push(...tokenize(sql, i + tag.length, bodyEnd));
      i = Math.min(to, bodyEnd + tag.length);
    } else if (char === '"') {
      const { value, end } = quotedName(sql, i);
      tokens.push({ kind: 'name', value, start, end });
      i = end;
    } else if (/^[uU]&"/.test(sql.slice(i, i + 3))) {
      const { value, end } = quotedName(sql, i + 2);
      const escape = /^\s*uescape\s*'(.)'/i.exec(sql.slice(end, end + 40));
      tokens.push({ kind: 'name', value: unicodeEscapes(value, escape?.[1] ?? '\\'), start, end });
      i = end + (escape?.[0].length ?? 0);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(char)) {
      const match = /^[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/.exec(sql.slice(i, to)) as RegExpExecArray;
      i += match[0].length;
      tokens.push({ kind: 'name', value: match[0].toLowerCase(), start, end: i });
    } else if (char === '.') tokens.push({ kind: 'dot', start, end: ++i });
    else tokens.push({ kind: 'other', start, end: ++i });
  }
  return tokens;
}

function lineEnd(sql: string, from: number): number {
  const end = sql.indexOf('\n', from);
  return end === -1 ? sql.length : end + 1;
}

/** Block comments nest in PostgreSQL. */
function commentEnd(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      i += 2;
      if (--depth === 0) return i;
    } else i++;
  }
  return i;
}

function stringEnd(sql: string, from: number, backslashEscapes: boolean): number {
  let i = from + 1;
  while (i < sql.length) {
    if (backslashEscapes && sql[i] === '\\') i += 2;
    else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
    else if (sql[i] === "'") return i + 1;
    else i++;
  }
  return i;
}

function quotedName(sql: string, from: number): { value: string; end: number } {
  let value = '';
  let i = from + 1;
  while (i < sql.length) {
    if (sql[i] === '"' && sql[i + 1] === '"') {
      value += '"';
      i += 2;
    } else if (sql[i] === '"') return { value, end: i + 1 };
    else value += sql[i++];
  }
  return { value, end: i };
}

/** `\XXXX`, `\+XXXXXX` and a doubled escape in a `U&"…"` name; the escape is `\` unless `UESCAPE` names another. */
function unicodeEscapes(text: string, escape: string): string {
  const e = escape.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`${e}(${e}|[0-9A-Fa-f]{4}|\\+[0-9A-Fa-f]{6})`, 'g'), (_match, code: string) =>
    code === escape ? escape : String.fromCodePoint(parseInt(code.replace('+', ''), 16)),
  );
}

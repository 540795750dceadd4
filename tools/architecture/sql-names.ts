/**
 * Schema-qualified names in SQL text, read the way PostgreSQL's lexer reads them (see "Lexical
 * Structure" in the PostgreSQL manual): whitespace and comments may sit around the dot
 * (`ledger . entries`, `ledger/* x *\/.entries`), unquoted names fold to lower case (`LEDGER.x`),
 * quoted ones keep their case (`"ledger"."x"`; `"LEDGER"` is another schema), `U&"\006Cedger"`
 * spells a name in escapes, and string constants (`'ledger.x'`, `E'…'`, `$$…$$`) name nothing.
 *
 * Text folded from source code may hold holes: parts whose value the source does not give (a
 * template hole or an operand of `+` that is not a known constant), written as
 * `HOLE_START text HOLE_END`. A hole in the place of a schema is a schema computed at run time.
 */

export const HOLE_START = '\u0000';
export const HOLE_END = '\u0001';

type Token = { kind: 'name'; value: string; end: number } | { kind: 'hole'; value: string; end: number } | { kind: 'dot' | 'other'; end: number };

export interface QualifiedName {
  /** The schema as PostgreSQL resolves it, or the source text of the hole that computes it. */
  schema: string;
  computed: boolean;
}

const SQL_WORDS = /\b(select|insert|update|delete|merge|from|join|into|table|truncate|copy|call|create|alter|drop|lock|vacuum|analyze|refresh|returning|where)\b/i;

/** Every `schema.name` in `sql` (also `schema.*`). See the file comment for what counts. */
export function qualifiedNames(sql: string): QualifiedName[] {
  const tokens = tokenize(sql);
  const found: QualifiedName[] = [];
  for (let i = 0; i + 2 < tokens.length; i++) {
    const [schema, dot, object] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (dot.kind !== 'dot' || (schema.kind !== 'name' && schema.kind !== 'hole')) continue;
    if (object.kind !== 'name' && object.kind !== 'hole' && !(object.kind === 'other' && sql[object.end - 1] === '*')) continue;
    // `ingestion.transfer-ingested` is an event type or subscriber name, not SQL.
    if (object.kind === 'name' && /^-[a-z]/i.test(sql.slice(object.end, object.end + 2))) continue;
    if (schema.kind === 'hole' && !SQL_WORDS.test(sql)) continue;
    found.push({ schema: schema.value, computed: schema.kind === 'hole' });
  }
  return found;
}

/** Whether `sql` changes the schema search path (`SET search_path`, `set_config('search_path', …)`). */
export function setsSearchPath(sql: string): boolean {
  return /search_path/i.test(sql);
}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const char = sql[i];
    if (/\s/.test(char)) i++;
    else if (sql.startsWith('--', i)) i = lineEnd(sql, i);
    else if (sql.startsWith('/*', i)) i = commentEnd(sql, i);
    else if (char === HOLE_START) {
      const end = sql.indexOf(HOLE_END, i);
      const stop = end === -1 ? sql.length : end + 1;
      tokens.push({ kind: 'hole', value: sql.slice(i + 1, stop - 1), end: stop });
      i = stop;
    } else if (char === "'") i = stringEnd(sql, i, /[eE]$/.test(sql.slice(0, i)));
    else if (char === '$' && /^\$([A-Za-z_][\w]*)?\$/.test(sql.slice(i))) i = dollarEnd(sql, i);
    else if (char === '"') {
      const { value, end } = quotedName(sql, i);
      tokens.push({ kind: 'name', value, end });
      i = end;
    } else if (/^[uU]&"/.test(sql.slice(i, i + 3))) {
      const { value, end } = quotedName(sql, i + 2);
      tokens.push({ kind: 'name', value: unicodeEscapes(value), end });
      i = end;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(char)) {
      const match = /^[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/.exec(sql.slice(i)) as RegExpExecArray;
      i += match[0].length;
      tokens.push({ kind: 'name', value: match[0].toLowerCase(), end: i });
    } else if (char === '.') tokens.push({ kind: 'dot', end: ++i });
    else tokens.push({ kind: 'other', end: ++i });
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

function dollarEnd(sql: string, from: number): number {
  const tag = (/^\$([A-Za-z_][\w]*)?\$/.exec(sql.slice(from)) as RegExpExecArray)[0];
  const end = sql.indexOf(tag, from + tag.length);
  return end === -1 ? sql.length : end + tag.length;
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

/** `\XXXX`, `\+XXXXXX` and `\\` in a `U&"…"` name (the default escape character). */
function unicodeEscapes(text: string): string {
  return text.replace(/\\(\\|[0-9A-Fa-f]{4}|\+[0-9A-Fa-f]{6})/g, (_match, code: string) =>
    code === '\\' ? '\\' : String.fromCodePoint(parseInt(code.replace('+', ''), 16)),
  );
}

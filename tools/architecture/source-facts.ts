import * as ts from 'typescript';
import { HOLE_END, HOLE_START } from './sql-names';

/** Facts read from one TypeScript file with the compiler's parser (no type checking). */

export interface Located<T> {
  value: T;
  line: number;
}

export interface EventDeclaration {
  className: string;
  type?: string;
  version?: number;
}

export interface Subscription {
  eventClass: string;
  className: string;
  method: string;
  /** As `@OnIntegrationEvent` records it: one event per call, batches, or best effort. */
  mode: 'single' | 'batch' | 'best-effort';
  batch?: number;
  name?: string;
}

export interface FileFacts {
  /**
   * Text of every string literal (except module specifiers), and of every string built from
   * pieces: template literals, `+` chains, `[…].join(…)` and `.concat(…)`, with constants of the
   * file filled in and unknown parts kept as holes (see `sql-names.ts`).
   */
  literals: Located<string>[];
  /** `schema` of each `defineModule({ ... })`, literal or a string constant of the file (none for `schema: false`). */
  declaredSchemas: Located<string>[];
  /** Schema names given as `schema: '...'` anywhere (entities, forModule, ...) or to `inboxMigration('...')`. */
  namedSchemas: Located<string>[];
  /**
   * Schemas given to `@Entity`, `@ViewEntity`, `forModule`, `defineModule` or `inboxMigration`
   * by a value the file does not spell out (an import, a parameter): the source text of that value.
   */
  unresolvedSchemas: Located<string>[];
  /** Classes declared with `extends IntegrationEvent`. */
  events: EventDeclaration[];
  /** Class names instantiated with `new X(...)`. */
  constructed: Located<string>[];
  subscriptions: Located<Subscription>[];
  /** Classes declared with `implements ...Transport`. */
  transports: string[];
  /** Local name → module specifier, for every named import. */
  imports: Record<string, string>;
}

const cache = new Map<string, FileFacts>();

function lineOf(file: ts.SourceFile, node: ts.Node): number {
  return file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
}

function isModuleSpecifier(node: ts.Node): boolean {
  const parent = node.parent;
  if (!parent) return false;
  if ((ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent)) && parent.moduleSpecifier === node) return true;
  if (ts.isExternalModuleReference(parent)) return true;
  if (ts.isCallExpression(parent) && (parent.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(parent.expression) && parent.expression.text === 'require'))) {
    return true;
  }
  return ts.isLiteralTypeNode(parent) && ts.isImportTypeNode(parent.parent);
}

function calleeName(call: ts.CallExpression): string | undefined {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return undefined;
}

function propertyNamed(object: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const property of object.properties) {
    if (ts.isPropertyAssignment(property) && (ts.isIdentifier(property.name) || ts.isStringLiteral(property.name)) && property.name.text === name) {
      return property.initializer;
    }
  }
  return undefined;
}

/** Parses `text` (memoised by path and content). */
export function factsOf(path: string, text: string): FileFacts {
  const key = `${path}\u0000${text}`;
  const cached = cache.get(key);
  if (cached) return cached;

  if (path.endsWith('.sql')) {
    const sqlFacts: FileFacts = { ...emptyFacts(), literals: [{ value: text, line: 1 }] };
    cache.set(key, sqlFacts);
    return sqlFacts;
  }
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, scriptKind(path));
  const constants = new Map<string, string>();
  const facts = emptyFacts();

  const arrays = new Map<string, ts.ArrayLiteralExpression>();
  const folded = (expression: ts.Expression) => foldString(expression, { constants, arrays, file });
  // Only `const`: a `let` may be assigned another schema later, so its value is unknown (a hole).
  const collectConstants = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && isConst(node)) {
      const initializer = unwrap(node.initializer);
      if (ts.isArrayLiteralExpression(initializer)) arrays.set(node.name.text, initializer);
      const value = folded(node.initializer);
      if (value !== undefined && !value.includes(HOLE_START)) constants.set(node.name.text, value);
    }
    ts.forEachChild(node, collectConstants);
  };
  collectConstants(file);
  /** The value of a string the source spells out completely (literal, constant, or built from those). */
  const stringValue = (expression: ts.Expression | undefined): string | undefined => {
    const value = expression && folded(expression);
    return value === undefined || value.includes(HOLE_START) ? undefined : value;
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const bindings = node.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) facts.imports[element.name.text] = node.moduleSpecifier.text;
      }
    }
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && !isModuleSpecifier(node)) {
      facts.literals.push({ value: node.text, line: lineOf(file, node) });
    } else if (isBuiltString(node) && !isBuiltString(outerExpression(node))) {
      const value = folded(node as ts.Expression);
      if (value !== undefined) facts.literals.push({ value, line: lineOf(file, node) });
    }

    if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'schema') {
      const schema = stringValue(node.initializer);
      if (schema !== undefined) facts.namedSchemas.push({ value: schema, line: lineOf(file, node) });
      else if (!ts.isObjectLiteralExpression(unwrap(node.initializer)) && node.initializer.kind !== ts.SyntaxKind.FalseKeyword && insideSchemaOwner(node)) {
        facts.unresolvedSchemas.push({ value: node.initializer.getText(file), line: lineOf(file, node) });
      }
    }

    if (ts.isCallExpression(node)) {
      const callee = calleeName(node);
      const [first] = node.arguments;
      if (callee === 'defineModule' && first && ts.isObjectLiteralExpression(first)) {
        const schema = stringValue(propertyNamed(first, 'schema'));
        if (schema !== undefined) facts.declaredSchemas.push({ value: schema, line: lineOf(file, node) });
      }
      if (callee === 'inboxMigration' && first) {
        const schema = stringValue(first);
        if (schema !== undefined) facts.namedSchemas.push({ value: schema, line: lineOf(file, node) });
        else facts.unresolvedSchemas.push({ value: first.getText(file), line: lineOf(file, node) });
      }
    }

    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
      facts.constructed.push({ value: node.expression.text, line: lineOf(file, node) });
    }

    if (ts.isClassDeclaration(node) && node.name) {
      const heritage = node.heritageClauses ?? [];
      const extendsEvent = heritage.some(
        (clause) => clause.token === ts.SyntaxKind.ExtendsKeyword && clause.types.some((type) => type.expression.getText(file) === 'IntegrationEvent'),
      );
      if (extendsEvent) facts.events.push(eventDeclaration(node, node.name.text));
      const implementsTransport = heritage.some(
        (clause) => clause.token === ts.SyntaxKind.ImplementsKeyword && clause.types.some((type) => /(^|\.)Transport$/.test(type.expression.getText(file))),
      );
      if (implementsTransport) facts.transports.push(node.name.text);
      for (const member of node.members) {
        if (ts.isMethodDeclaration(member)) {
          const subscription = subscriptionOf(member, node.name.text, stringValue);
          if (subscription) facts.subscriptions.push({ value: subscription, line: lineOf(file, member) });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  cache.set(key, facts);
  return facts;
}

function eventDeclaration(node: ts.ClassDeclaration, className: string): EventDeclaration {
  const event: EventDeclaration = { className };
  for (const member of node.members) {
    if (!ts.isPropertyDeclaration(member) || !ts.isIdentifier(member.name) || !member.initializer) continue;
    const isStatic = member.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.StaticKeyword);
    if (!isStatic) continue;
    if (member.name.text === 'type' && ts.isStringLiteralLike(member.initializer)) event.type = member.initializer.text;
    if (member.name.text === 'version' && ts.isNumericLiteral(member.initializer)) event.version = Number(member.initializer.text);
  }
  return event;
}

function subscriptionOf(
  method: ts.MethodDeclaration,
  className: string,
  stringValue: (expression: ts.Expression | undefined) => string | undefined,
): Subscription | undefined {
  for (const decorator of ts.getDecorators(method) ?? []) {
    const call = decorator.expression;
    if (!ts.isCallExpression(call) || calleeName(call) !== 'OnIntegrationEvent') continue;
    const [eventArg, optionsArg] = call.arguments;
    if (!eventArg || !ts.isIdentifier(eventArg)) continue;
    const options = optionsArg && ts.isObjectLiteralExpression(optionsArg) ? optionsArg : undefined;
    const batchNode = options && propertyNamed(options, 'batch');
    const batch = batchNode && ts.isNumericLiteral(batchNode) ? Number(batchNode.text) : undefined;
    const delivery = stringValue(options && propertyNamed(options, 'delivery'));
    return {
      eventClass: eventArg.text,
      className,
      method: method.name.getText(),
      mode: delivery === 'best-effort' ? 'best-effort' : batchNode ? 'batch' : 'single',
      ...(batch !== undefined ? { batch } : {}),
      ...(stringValue(options && propertyNamed(options, 'name')) !== undefined ? { name: stringValue(options && propertyNamed(options, 'name')) } : {}),
    };
  }
  return undefined;
}

/** A string built from pieces: a template with holes, `a + b`, `[…].join(…)`, `x.concat(…)`. */
function isBuiltString(node: ts.Node | undefined): boolean {
  if (!node) return false;
  if (ts.isTemplateExpression(node)) return true;
  if (ts.isBinaryExpression(node)) return node.operatorToken.kind === ts.SyntaxKind.PlusToken;
  return ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ['join', 'concat'].includes(node.expression.name.text);
}

/** The expression `node` is an operand of, through parentheses and `as`. */
function outerExpression(node: ts.Node): ts.Node | undefined {
  let parent = node.parent;
  while (parent && (ts.isParenthesizedExpression(parent) || ts.isAsExpression(parent) || ts.isSatisfiesExpression(parent))) parent = parent.parent;
  return parent && ts.isPropertyAccessExpression(parent) ? parent.parent : parent;
}

interface FoldScope {
  constants: ReadonlyMap<string, string>;
  arrays: ReadonlyMap<string, ts.ArrayLiteralExpression>;
  file: ts.SourceFile;
}

/**
 * The string `expression` evaluates to, as far as the source says: literals and the file's string
 * constants are filled in, anything else is a hole (`HOLE_START text HOLE_END`). Undefined when
 * the expression holds no string at all (`a + b` on numbers, say). A `join` whose separator is
 * unknown is read as joined by dots: a schema-qualified name is what the checks look for.
 */
function foldString(expression: ts.Expression, scope: FoldScope): string | undefined {
  const hole = (node: ts.Node) => `${HOLE_START}${node.getText(scope.file)}${HOLE_END}`;
  const part = (node: ts.Expression): string => foldString(node, scope) ?? hole(node);
  expression = unwrap(expression);
  if (ts.isStringLiteralLike(expression)) return expression.text;
  if (ts.isIdentifier(expression)) return scope.constants.get(expression.text);
  if (ts.isTemplateExpression(expression)) {
    return expression.head.text + expression.templateSpans.map((span) => part(span.expression) + span.literal.text).join('');
  }
  if (ts.isBinaryExpression(expression) && expression.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const [left, right] = [foldString(expression.left, scope), foldString(expression.right, scope)];
    if (left === undefined && right === undefined) return undefined;
    return (left ?? hole(expression.left)) + (right ?? hole(expression.right));
  }
  if (ts.isCallExpression(expression) && ts.isPropertyAccessExpression(expression.expression)) {
    const { name, expression: target } = expression.expression;
    const array = ts.isArrayLiteralExpression(target) ? target : ts.isIdentifier(target) ? scope.arrays.get(target.text) : undefined;
    if (name.text === 'join' && array) {
      const separator = expression.arguments[0] ? (foldString(expression.arguments[0], scope) ?? '.') : ',';
      return array.elements.map((element) => part(element)).join(separator);
    }
    if (name.text === 'concat') {
      const head = foldString(target, scope);
      if (head !== undefined) return head + expression.arguments.map((argument) => part(argument)).join('');
    }
  }
  return undefined;
}

function unwrap(expression: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression) || ts.isSatisfiesExpression(expression)) expression = expression.expression;
  return expression;
}

function isConst(declaration: ts.VariableDeclaration): boolean {
  return ts.isVariableDeclarationList(declaration.parent) && (declaration.parent.flags & ts.NodeFlags.Const) !== 0;
}

/** Whether a `schema:` property sits in the options of a call that places tables in a schema. */
function insideSchemaOwner(property: ts.PropertyAssignment): boolean {
  const call = property.parent.parent;
  const callee = ts.isCallExpression(call) ? calleeName(call) : ts.isNewExpression(call) && ts.isIdentifier(call.expression) ? call.expression.text : undefined;
  return ['Entity', 'ViewEntity', 'forModule', 'defineModule', 'Table'].includes(callee ?? '');
}

function scriptKind(path: string): ts.ScriptKind {
  if (/\.[cm]?tsx$/.test(path)) return ts.ScriptKind.TSX;
  if (/\.[cm]?jsx$/.test(path)) return ts.ScriptKind.JSX;
  if (/\.[cm]?js$/.test(path)) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

function emptyFacts(): FileFacts {
  return { literals: [], declaredSchemas: [], namedSchemas: [], unresolvedSchemas: [], events: [], constructed: [], subscriptions: [], transports: [], imports: {} };
}

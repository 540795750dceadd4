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
  /** `schema` of each `defineModuleSchema({ ... })`, literal or a string constant of the file. */
  declaredSchemas: Located<string>[];
  /** Schema names given as `schema: '...'` anywhere (entities, forModule, ...) or to `inboxMigration('...')`. */
  namedSchemas: Located<string>[];
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

  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const constants = new Map<string, string>();
  const facts: FileFacts = { literals: [], declaredSchemas: [], namedSchemas: [], events: [], constructed: [], subscriptions: [], transports: [], imports: {} };

  const folded = (expression: ts.Expression) => foldString(expression, constants, file);
  const collectConstants = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
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
    }

    if (ts.isCallExpression(node)) {
      const callee = calleeName(node);
      const [first] = node.arguments;
      if (callee === 'defineModuleSchema' && first && ts.isObjectLiteralExpression(first)) {
        const schema = stringValue(propertyNamed(first, 'schema'));
        if (schema !== undefined) facts.declaredSchemas.push({ value: schema, line: lineOf(file, node) });
      }
      if (callee === 'inboxMigration') {
        const schema = stringValue(first);
        if (schema !== undefined) facts.namedSchemas.push({ value: schema, line: lineOf(file, node) });
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

/**
 * The string `expression` evaluates to, as far as the source says: literals and the file's string
 * constants are filled in, anything else is a hole (`HOLE_START text HOLE_END`). Undefined when
 * the expression holds no string at all (`a + b` on numbers, say).
 */
function foldString(expression: ts.Expression, constants: ReadonlyMap<string, string>, file: ts.SourceFile): string | undefined {
  const hole = (node: ts.Node) => `${HOLE_START}${node.getText(file)}${HOLE_END}`;
  const part = (node: ts.Expression): string => foldString(node, constants, file) ?? hole(node);
  if (ts.isStringLiteralLike(expression)) return expression.text;
  if (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression) || ts.isSatisfiesExpression(expression)) {
    return foldString(expression.expression, constants, file);
  }
  if (ts.isIdentifier(expression)) return constants.get(expression.text);
  if (ts.isTemplateExpression(expression)) {
    return expression.head.text + expression.templateSpans.map((span) => part(span.expression) + span.literal.text).join('');
  }
  if (ts.isBinaryExpression(expression) && expression.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const [left, right] = [foldString(expression.left, constants, file), foldString(expression.right, constants, file)];
    if (left === undefined && right === undefined) return undefined;
    return (left ?? hole(expression.left)) + (right ?? hole(expression.right));
  }
  if (ts.isCallExpression(expression) && ts.isPropertyAccessExpression(expression.expression)) {
    const { name, expression: target } = expression.expression;
    if (name.text === 'join' && ts.isArrayLiteralExpression(target)) {
      const separator = expression.arguments[0] ? part(expression.arguments[0]) : ',';
      return target.elements.map((element) => part(element)).join(separator);
    }
    if (name.text === 'concat') {
      const head = foldString(target, constants, file);
      if (head !== undefined) return head + expression.arguments.map((argument) => part(argument)).join('');
    }
  }
  return undefined;
}

import * as ts from 'typescript';

/** Where the composition root lists the modules it can run. */
export const MODULE_CATALOG_FILE = 'apps/api/src/module-catalog.ts';
const CATALOG_NAME = 'MODULE_CATALOG';

export class ModuleCatalogError extends Error {}

interface CatalogEntry {
  key: string;
  value: string;
}

interface ParsedCatalog {
  file: ts.SourceFile;
  object: ts.ObjectLiteralExpression;
  entries: CatalogEntry[];
}

function unwrap(expression: ts.Expression): ts.Expression {
  let current = expression;
  while (ts.isAsExpression(current) || ts.isSatisfiesExpression(current) || ts.isParenthesizedExpression(current)) {
    current = current.expression;
  }
  return current;
}

function propertyKey(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name)) return name.text;
  return undefined;
}

function parse(source: string): ParsedCatalog {
  const file = ts.createSourceFile(MODULE_CATALOG_FILE, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  let object: ts.ObjectLiteralExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === CATALOG_NAME && node.initializer) {
      const initializer = unwrap(node.initializer);
      if (ts.isObjectLiteralExpression(initializer)) object = initializer;
    }
    if (!object) ts.forEachChild(node, visit);
  };
  visit(file);
  if (!object) {
    throw new ModuleCatalogError(
      `${MODULE_CATALOG_FILE} has no "const ${CATALOG_NAME} = { ... }" object literal to register the module in; nothing was written.`,
    );
  }
  const entries = object.properties.flatMap((property): CatalogEntry[] => {
    if (ts.isPropertyAssignment(property)) {
      const key = propertyKey(property.name);
      return key === undefined ? [] : [{ key, value: property.initializer.getText(file) }];
    }
    if (ts.isShorthandPropertyAssignment(property)) return [{ key: property.name.text, value: property.name.text }];
    return [];
  });
  return { file, object, entries };
}

/** The module names the catalog lists, in order. */
export function catalogModules(source: string): string[] {
  return parse(source).entries.map((entry) => entry.key);
}

interface Edit {
  at: number;
  text: string;
}

function applyEdits(source: string, edits: Edit[]): string {
  return [...edits].sort((a, b) => b.at - a.at).reduce((text, edit) => text.slice(0, edit.at) + edit.text + text.slice(edit.at), source);
}

function lineStart(source: string, position: number): number {
  return source.lastIndexOf('\n', position - 1) + 1;
}

function indentationAt(source: string, position: number): string {
  const start = lineStart(source, position);
  return /^[ \t]*/.exec(source.slice(start))?.[0] ?? '';
}

/**
 * Adds `import { <className> } from '<alias>'` and a `<name>: <className>` entry at the end of
 * MODULE_CATALOG (the default start-up order), as a text edit placed by the TypeScript AST so the
 * rest of the file keeps its exact formatting. The import goes among the other module imports,
 * in alphabetical order of their specifiers.
 */
export function registerInCatalog(source: string, entry: { name: string; className: string; alias: string }): string {
  const { file, object, entries } = parse(source);
  if (entries.some((existing) => existing.key === entry.name)) {
    throw new ModuleCatalogError(`${MODULE_CATALOG_FILE} already lists a module named "${entry.name}"; nothing was written.`);
  }
  const imports = file.statements.filter(ts.isImportDeclaration);
  const catalogValues = new Set(entries.map((existing) => existing.value));
  const specifierOf = (declaration: ts.ImportDeclaration) => (declaration.moduleSpecifier as ts.StringLiteral).text;
  const importsName = (declaration: ts.ImportDeclaration, name: string) => {
    const bindings = declaration.importClause?.namedBindings;
    return !!bindings && ts.isNamedImports(bindings) && bindings.elements.some((element) => element.name.text === name);
  };
  if (imports.some((declaration) => importsName(declaration, entry.className))) {
    throw new ModuleCatalogError(`${MODULE_CATALOG_FILE} already imports ${entry.className}; nothing was written.`);
  }
  const moduleImports = imports.filter((declaration) => [...catalogValues].some((value) => importsName(declaration, value)));
  const importLine = `import { ${entry.className} } from '${entry.alias}';\n`;
  const before = moduleImports.find((declaration) => specifierOf(declaration) > entry.alias);
  const anchor = moduleImports.at(-1) ?? imports.at(-1);
  const importEdit: Edit = before
    ? { at: lineStart(source, before.getStart(file)), text: importLine }
    : anchor
      ? { at: anchor.getEnd() + (source[anchor.getEnd()] === '\n' ? 1 : 0), text: anchor.getEnd() < source.length ? importLine : `\n${importLine}` }
      : { at: 0, text: importLine };

  const key = /^[A-Za-z_$][\w$]*$/.test(entry.name) ? entry.name : `'${entry.name}'`;
  const property = `${key}: ${entry.className}`;
  const properties = object.properties;
  let entryEdit: Edit;
  if (properties.length === 0) {
    const indent = indentationAt(source, object.getStart(file));
    entryEdit = { at: object.getStart(file) + 1, text: `\n${indent}  ${property},\n${indent}` };
  } else {
    const last = properties[properties.length - 1];
    const indent = indentationAt(source, last.getStart(file));
    const multiline = source.slice(object.getStart(file), last.getStart(file)).includes('\n');
    const separator = multiline ? `\n${indent}` : ' ';
    if (properties.hasTrailingComma) {
      const comma = source.indexOf(',', last.getEnd());
      entryEdit = { at: comma + 1, text: `${separator}${property},` };
    } else {
      entryEdit = { at: last.getEnd(), text: `,${separator}${property}` };
    }
  }
  return applyEdits(source, [importEdit, entryEdit]);
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';

/** A package reached from an entry point, with the chain of imports that reaches it. */
export interface ReachedPackage {
  name: string;
  /** Workspace files (relative to the root) and then packages, from the entry to `name`. */
  chain: string[];
}

/**
 * Every npm package an entry point can load at run time: its own files' imports, followed through
 * relative paths and the tsconfig path aliases (`@modulith/...`), and each package's
 * `dependencies` and required `peerDependencies` after that, transitively. Type-only imports are left out
 * (erased at compile time). Each package is reported once, with the first chain found.
 */
export function reachedPackages(workspaceRoot: string, entry: string, tsconfig = 'tsconfig.base.json'): ReachedPackage[] {
  const options = compilerOptions(workspaceRoot, tsconfig);
  const host = ts.createCompilerHost(options);
  const reached = new Map<string, ReachedPackage>();
  const seenFiles = new Set<string>();
  const files: { file: string; chain: string[] }[] = [{ file: join(workspaceRoot, entry), chain: [entry] }];
  const packages: ReachedPackage[] = [];

  while (files.length > 0) {
    const { file, chain } = files.shift() as { file: string; chain: string[] };
    if (seenFiles.has(file)) continue;
    seenFiles.add(file);
    for (const specifier of runtimeImports(readFileSync(file, 'utf8'))) {
      const resolved = ts.resolveModuleName(specifier, file, options, host).resolvedModule;
      if (resolved && !resolved.isExternalLibraryImport && resolved.extension !== ts.Extension.Dts) {
        files.push({ file: resolved.resolvedFileName, chain: [...chain, relative(workspaceRoot, resolved.resolvedFileName)] });
      } else if (!specifier.startsWith('.') && !specifier.startsWith('node:')) {
        packages.push({ name: packageName(specifier), chain: [...chain, packageName(specifier)] });
      }
    }
  }
  while (packages.length > 0) {
    const found = packages.shift() as ReachedPackage;
    if (reached.has(found.name)) continue;
    reached.set(found.name, found);
    for (const dependency of dependenciesOf(workspaceRoot, found.name)) packages.push({ name: dependency, chain: [...found.chain, dependency] });
  }
  return [...reached.values()];
}

/** The reached packages that `forbidden` matches (a package name or a scope such as `@nestjs/`). */
export function forbiddenPackages(reached: readonly ReachedPackage[], forbidden: readonly string[]): ReachedPackage[] {
  return reached.filter((found) => forbidden.some((rule) => (rule.endsWith('/') ? found.name.startsWith(rule) : found.name === rule)));
}

/** Module specifiers of the imports and re-exports that survive compilation. */
export function runtimeImports(source: string): string[] {
  const file = ts.createSourceFile('entry.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly = clause?.isTypeOnly || (clause && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((element) => element.isTypeOnly));
      if (!typeOnly) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const typeOnly = node.isTypeOnly || (clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((element) => element.isTypeOnly));
      if (!typeOnly) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return specifiers;
}

function compilerOptions(workspaceRoot: string, tsconfig: string): ts.CompilerOptions {
  const path = join(workspaceRoot, tsconfig);
  const { config, error } = ts.readConfigFile(path, ts.sys.readFile);
  if (error) throw new Error(`${tsconfig}: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  return ts.parseJsonConfigFileContent(config, ts.sys, dirname(path)).options;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

interface Manifest {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** What a package loads at run time, from its package.json: dependencies and required peers (none when it is not installed). */
function dependenciesOf(workspaceRoot: string, name: string): string[] {
  const manifest = join(workspaceRoot, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return [];
  const { dependencies = {}, peerDependencies = {}, peerDependenciesMeta = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as Manifest;
  return [...Object.keys(dependencies), ...Object.keys(peerDependencies).filter((peer) => !peerDependenciesMeta[peer]?.optional)];
}

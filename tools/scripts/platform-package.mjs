#!/usr/bin/env node
// `nx run <platform project>:package`: turns a platform library's build output into an npm package.
//   node tools/scripts/platform-package.mjs <projectRoot> <outputPath>
// Writes <outputPath>/package.json from the library's own package.json plus `main`, `types` and an
// `exports` map with one entry per `tsconfig.base.json` path of the package (`@modulith/x` → ".",
// `@modulith/x/sub` → "./sub"), pointing at the compiled files; copies README.md and CHANGELOG.md.
// Nx's own `additionalEntryPoints` cannot do this here: it is a hand-kept list, and it maps
// src/sub.ts to ./src/sub.js although the build's rootDir is src/ (the file is ./sub.js).
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

/**
 * The exports map of package `name` whose sources are under `sourceRoot` (relative to the
 * workspace root): every alias of `paths` that is `name` or starts with `name/`, mapped to the
 * compiled file. Throws naming the alias when its target lies outside the sources.
 */
export function exportsFromPaths(name, sourceRoot, paths) {
  const entries = Object.entries(paths)
    .filter(([alias]) => alias === name || alias.startsWith(`${name}/`))
    .sort(([a], [b]) => (a === name ? -1 : b === name ? 1 : a.localeCompare(b)));
  if (!entries.some(([alias]) => alias === name)) throw new Error(`tsconfig.base.json has no path for ${name}`);
  const map = {};
  for (const [alias, [target]] of entries) {
    const inSources = relative(sourceRoot, target).split('\\').join('/');
    if (inSources.startsWith('..') || !inSources.endsWith('.ts')) {
      throw new Error(`path ${alias} → ${target} is not a .ts file under ${sourceRoot}`);
    }
    const compiled = `./${inSources.slice(0, -'.ts'.length)}`;
    map[alias === name ? '.' : `.${alias.slice(name.length)}`] = { types: `${compiled}.d.ts`, default: `${compiled}.js` };
  }
  map['./package.json'] = './package.json';
  return map;
}

function main([projectRoot, outputPath]) {
  if (!projectRoot || !outputPath) throw new Error('usage: platform-package.mjs <projectRoot> <outputPath>');
  const source = JSON.parse(readFileSync(join(root, projectRoot, 'package.json'), 'utf8'));
  const { paths } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')).compilerOptions;
  const exports = exportsFromPaths(source.name, join(projectRoot, 'src'), paths);
  const out = join(root, outputPath);
  for (const [entry, target] of Object.entries(exports)) {
    if (typeof target === 'string') continue; // ./package.json, written below
    const files = Object.values(target);
    const missing = files.filter((file) => !existsSync(join(out, file)));
    if (missing.length > 0) throw new Error(`${source.name}: export "${entry}" needs ${missing.join(', ')} in ${outputPath}; build it first`);
  }
  const { name, version, description, ...rest } = source;
  const manifest = { name, version, description, main: exports['.'].default, types: exports['.'].types, exports, ...rest };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const doc of ['README.md', 'CHANGELOG.md']) {
    if (existsSync(join(root, projectRoot, doc))) copyFileSync(join(root, projectRoot, doc), join(out, doc));
  }
  console.log(`${name}@${version}: ${Object.keys(exports).join(', ')} → ${outputPath}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}

// Lets plain `node` run this repository's TypeScript: compiles each .ts file with SWC when it is
// required (same options as the Jest preset) and maps the @modulith/* path aliases of
// tsconfig.base.json. Used by the crash test's child process and the messaging benchmark:
//   node -r ./libs/platform/messaging/src/test-support/ts-register.cjs some-script.ts
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

function findRoot(dir) {
  for (let current = dir; ; current = path.dirname(current)) {
    if (fs.existsSync(path.join(current, 'tsconfig.base.json'))) return current;
    if (path.dirname(current) === current) throw new Error('ts-register: no tsconfig.base.json above ' + dir);
  }
}

const root = findRoot(__dirname);
const paths = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8')).compilerOptions.paths;
const aliases = new Map(Object.entries(paths).map(([alias, [target]]) => [alias, path.join(root, target)]));

const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveAlias(request, ...rest) {
  return resolve.call(this, aliases.get(request) ?? request, ...rest);
};

const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};

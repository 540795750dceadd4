// Lets plain Node load this plugin's TypeScript sources (the generator, the architecture docs) and
// the test kit `@modulith/testing` that tools/scripts share with the tests.
// Nx loads a local plugin's .ts files only through @swc-node/register or ts-node, which this
// workspace does not install, or through Node's own type stripping (Node >= 22.18), which
// cannot compile everything TypeScript allows. @swc/core is here already (Jest uses it).
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { join, sep } = require('node:path');

const TOOLS_ROOT = join(__dirname, '..') + sep;
const TEST_KIT_ROOT = join(__dirname, '..', '..', 'libs', 'platform', 'testing', 'src') + sep;
const TEST_KIT_ENTRY = join(TEST_KIT_ROOT, 'index.ts');
const REGISTERED = Symbol.for('modulith.tools.ts-hook');

const SWC_OPTIONS = {
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

/**
 * Compiles `.ts` files under tools/ and the test kit's sources with SWC on require, and resolves
 * `require('@modulith/testing')` to the kit's entry; anything else goes to the previous handler.
 */
function register() {
  if (Module[REGISTERED]) return;
  Module[REGISTERED] = true;
  const { transformSync } = require('@swc/core');
  const extensions = Module._extensions;
  const previous = extensions['.ts'];
  extensions['.ts'] = function compileToolsTypeScript(module, filename) {
    const ours = (filename.startsWith(TOOLS_ROOT) || filename.startsWith(TEST_KIT_ROOT)) && !filename.includes(`${sep}node_modules${sep}`);
    if (!ours) {
      if (previous) return previous(module, filename);
      throw new Error(`no TypeScript loader for ${filename}`);
    }
    const { code } = transformSync(readFileSync(filename, 'utf8'), { ...SWC_OPTIONS, filename });
    module._compile(code, filename);
  };
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function resolveTestKit(request, ...rest) {
    return resolveFilename.call(this, request === '@modulith/testing' ? TEST_KIT_ENTRY : request, ...rest);
  };
}

module.exports = { register };

#!/usr/bin/env node
// `npm run docs`: writes docs/architecture.md (Mermaid diagrams of the allowed and actual
// dependencies, the modules and the event flow) from the Nx project graph and the code.
// `--check` writes nothing and exits 1 when the file is stale.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
process.env.NX_DAEMON ??= 'false';
require('../src/ts-hook.js').register();
const { writeArchitectureDocs } = require('../architecture/architecture-docs.ts');

const check = process.argv.includes('--check');
const result = await writeArchitectureDocs({ check });
if (result.upToDate) {
  console.log(`${result.path} is up to date`);
} else if (check) {
  console.error(result.problem);
  process.exitCode = 1;
} else {
  console.log(`wrote ${result.path}`);
}

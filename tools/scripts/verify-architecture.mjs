#!/usr/bin/env node
// Runs the architecture checks of tools/architecture/checks.ts on this workspace (project tags,
// cycles, module → module dependencies, layers, schema ownership); exits 1 naming each violation.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
process.env.NX_DAEMON ??= 'false';
require('../src/ts-hook.js').register();
const { readWorkspace } = require('../architecture/workspace-model.ts');
const { verifyArchitecture } = require('../architecture/checks.ts');

const model = await readWorkspace();
const violations = verifyArchitecture(model);
if (violations.length === 0) {
  console.log(`architecture: ${model.projects.length} projects, ${model.files.length} files, no violation`);
} else {
  console.error(`architecture: ${violations.length} violation(s)`);
  for (const violation of violations) console.error(`- ${violation}`);
  process.exitCode = 1;
}

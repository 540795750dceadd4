#!/usr/bin/env node
// `npm run contracts`: writes the JSON Schema of every integration event of the contracts
// libraries, per version, to contracts/<event type>/v<version>.schema.json (older versions'
// files are kept: stored events of those versions are read through upcasters). Commit them; the
// check (tools/architecture/contracts.spec.ts, run by `npm test`) compares the code to them.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Compiles the libraries' TypeScript and maps the @modulith/* aliases: the loader the crash
// test's child and the messaging benchmark use (a dev tool, loaded by path, not imported).
require(join(root, 'libs', 'platform', 'messaging', 'src', 'test-support', 'ts-register.cjs'));
const { contractEvents, writeContractSnapshots } = require('../architecture/contract-snapshots.ts');

const events = contractEvents(root);
const written = writeContractSnapshots(root, events);
for (const path of written) console.log(`wrote ${path}`);
const missing = events.filter(({ eventClass }) => !eventClass.schema).map(({ eventClass }) => eventClass.name);
if (missing.length > 0) {
  console.error(`no "static readonly schema" on: ${missing.join(', ')}`);
  process.exitCode = 1;
}

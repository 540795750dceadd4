#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. BENCH_CPU_PROF=1 npm run bench -- pipeline):
// self time by function and by package, top entries first.
//   node bench/lib/cpu-profile-top.mjs bench/results/profiles/<file>.cpuprofile [top]
import * as fs from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/lib/cpu-profile-top.mjs <file.cpuprofile> [top=25]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
// timeDeltas[i] is the time before samples[i]: attribute it to that sample's node.
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = [...self.values()].reduce((sum, value) => sum + value, 0);

function where(url) {
  if (!url) return '(native)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  const lib = /\/(libs\/[^/]+\/[^/]+|apps\/[^/]+|bench)\//.exec(url);
  if (lib) return lib[1];
  if (url.startsWith('node:')) return 'node';
  return url.split('/').slice(-2).join('/');
}

const functions = new Map();
const packages = new Map();
for (const [id, us] of self) {
  const frame = byId.get(id).callFrame;
  const name = frame.functionName || '(anonymous)';
  const key = `${name}  ${where(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
  const pkg = frame.url ? where(frame.url) : name.startsWith('(') ? name : '(native)';
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
}
const show = (title, map) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
  }
};
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s sampled`);
show('self time by package / place', packages);
show('self time by function', functions);

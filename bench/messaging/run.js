// Runs the messaging benchmark from plain node: `node bench/messaging/run.js`.
// The TypeScript is compiled on load by SWC (the same hook the crash test's child uses).
require('../../libs/platform/messaging/src/test-support/ts-register.cjs');
require('./relay.bench.ts');

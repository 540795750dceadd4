// Runs the Redis Streams benchmark from plain node: `node bench/redis/run.js`.
// The TypeScript is compiled on load by SWC (the hook the messaging benchmark and crash test use).
require('../../libs/platform/messaging/src/test-support/ts-register.cjs');
require('./redis.bench.ts');

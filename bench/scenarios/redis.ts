/**
 * Scenario `redis`: the same pipeline with `EVENT_TRANSPORT=redis` (Redis Streams between the
 * relay and the subscribers, in one process), beside the in-process transport in the same run.
 * Reports "skipped: transport not available" when the app still runs in-process with it set.
 */
import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { sizes } from '../lib/config';
import { REDIS_URL } from '../lib/db';
import { note, progress } from '../lib/ipc';
import type { ScenarioResult } from '../lib/scenario';
import { AppContender } from './pipeline/contenders';
import { runPipeline } from './pipeline/run-pipeline';
import { pipelineTables, serverTable } from './pipeline';
import { probeServer } from '../lib/server-probe';

async function deleteKeys(prefix: string): Promise<number> {
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: true });
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}-*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function run(): Promise<ScenarioResult> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  // Each app gets its own prefix: apps sharing one would share the streams, hence the events.
  const redisEnv = (id: string): Record<string, string> => ({ EVENT_TRANSPORT: 'redis', REDIS_URL, REDIS_KEY_PREFIX: `${prefix}-${id}` });
  const base = { name: 'redis', title: 'Pipeline over the Redis Streams transport (EVENT_TRANSPORT=redis), beside in-process' };
  try {
    // Is there a Redis transport in this build? Start the app with it asked for and look.
    progress('redis: is the transport there?', 0, 1);
    const probe = new AppContender('redis_probe', 'probe', 'same-effect', redisEnv('probe'));
    let transport = '';
    try {
      await probe.start();
      transport = probe.transport;
    } finally {
      await probe.stop();
    }
    if (!/redis/i.test(transport)) {
      return { ...base, skipped: `transport not available (EVENT_TRANSPORT=redis gave the "${transport}" transport)`, tables: [], checks: [], notes: [], data: {} };
    }
    const before = await probeServer();
    const outcomes = await runPipeline('redis', [
      new AppContender('modulith', 'Modulith in-process (reference app)', 'reference'),
      new AppContender('modulith_redis', 'Modulith over Redis Streams (reference app)', 'reference', redisEnv('reference')),
      new AppContender('modulith_fx_redis', 'Modulith over Redis Streams (same effect as peers)', 'same-effect', redisEnv('fx')),
    ]);
    const after = await probeServer();
    return {
      ...base,
      tables: [...pipelineTables(outcomes, [{ id: 'modulith', label: 'in-process' }]), serverTable(before, after)],
      checks: outcomes.flatMap((o) => o.checks),
      notes: [
        `One app process with EVENT_TRANSPORT=redis: the relay XADDs to Redis Streams (key prefix ${prefix}-<app>, removed afterwards), and each subscribing module reads its consumer group, handles and XACKs. Same HTTP feed, sizes and checks as the pipeline scenario.`,
      ],
      data: { sizes: sizes.pipeline, runs: sizes.runs, transport, outcomes },
    };
  } finally {
    const deleted = await deleteKeys(prefix).catch((error: Error) => {
      note(`redis: could not delete keys ${prefix}-*: ${error.message}`);
      return 0;
    });
    note(`redis: deleted ${deleted} key(s) under ${prefix}-*`);
  }
}

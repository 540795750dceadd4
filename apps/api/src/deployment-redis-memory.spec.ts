import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as analyticsContracts from '@modulith/analytics/contracts';
import * as ingestionContracts from '@modulith/ingestion/contracts';
import * as ledgerContracts from '@modulith/ledger/contracts';
import { resolveMessagingConfig } from '@modulith/messaging';
import { messagingOptionsFromEnv } from './platform-options';
import {
  dockerBytes,
  podSpecOf,
  quantityBytes,
  readCompose,
  readK8sResources,
  redisBytes,
  redisServerOption,
  repeatedRedisServerOptions,
  REPOSITORY_ROOT,
  type Yaml,
} from './testing/deployment-manifests';

// Redis holds the streams in memory and must never evict them. These checks recompute the sizing
// explained in docker/k8s/redis.yaml from the app itself (its event types and REDIS_STREAM_MAXLEN)
// and from the per-entry figure measured in libs/platform/messaging/README.md, so a new event
// type, a longer retention or a smaller limit fails here instead of in production.

/** Fork copy-on-write during an AOF rewrite, plus allocator fragmentation, as a share of maxmemory. */
const FORK_HEADROOM = 0.5;
/** The least lag Redis must absorb beyond the retained entries: 10 minutes of a stopped consumer group at 1,000 events/s. */
const MIN_LAG_ENTRIES = 10 * 60 * 1_000;
/** AOF base + growth to 100% before a rewrite + the new base written meanwhile. */
const DISK_PER_DATASET = 3;
const MIB = 1024 ** 2;

/** Every integration event type the reference app publishes: one Redis stream each. */
function publishedEventTypes(): string[] {
  return [analyticsContracts, ingestionContracts, ledgerContracts]
    .flatMap((contracts) => Object.values(contracts))
    .map((exported) => (exported as { type?: unknown }).type)
    .filter((type): type is string => typeof type === 'string' && /^[a-z0-9-]+\.[a-z0-9-]+$/.test(type))
    .sort();
}

/** "about 440 bytes per entry" in the messaging README (measured with MEMORY USAGE on Redis 7). */
function documentedBytesPerEntry(): number {
  const readme = readFileSync(path.join(REPOSITORY_ROOT, 'libs/platform/messaging/README.md'), 'utf8');
  const match = /about\s+(\d+)\s+bytes per entry/.exec(readme);
  if (!match) throw new Error('the messaging README no longer states the bytes per stream entry');
  return Number(match[1]);
}

interface RedisSizing {
  maxmemory: number;
  policy: string | undefined;
  limit: number;
  request?: number;
  disk?: number;
}

/** What does not fit, given the retained entries; empty when the sizing holds. */
function sizingFindings(sizing: RedisSizing, streams: number, streamMaxLen: number, bytesPerEntry: number): string[] {
  const retained = streams * streamMaxLen * bytesPerEntry;
  const lag = sizing.maxmemory - retained;
  const findings: string[] = [];
  if (sizing.policy !== 'noeviction') findings.push(`maxmemory-policy ${sizing.policy}: streams could be evicted`);
  if (lag < MIN_LAG_ENTRIES * bytesPerEntry) {
    findings.push(`maxmemory ${sizing.maxmemory / MIB} MiB leaves ${Math.floor(lag / MIB)} MiB beside ${Math.ceil(retained / MIB)} MiB of retained streams`);
  }
  if (sizing.limit < sizing.maxmemory * (1 + FORK_HEADROOM)) findings.push(`memory limit ${sizing.limit / MIB} MiB leaves no room for an AOF rewrite fork`);
  if (sizing.request !== undefined && sizing.request !== sizing.limit) findings.push('memory request differs from the limit: the node may evict Redis first');
  if (sizing.disk !== undefined && sizing.disk < sizing.maxmemory * DISK_PER_DATASET) findings.push(`volume ${sizing.disk / MIB} MiB cannot hold the AOF through a rewrite`);
  return findings;
}

describe('Redis memory for the stream retention', () => {
  const resources = readK8sResources();
  const config = resources.find((resource) => resource['kind'] === 'ConfigMap') as Yaml;
  const streamMaxLen = resolveMessagingConfig(messagingOptionsFromEnv(config['data'])).redisStreamMaxLen;
  const streams = publishedEventTypes().length;
  const bytesPerEntry = documentedBytesPerEntry();

  const redis = resources.find((resource) => resource['kind'] === 'StatefulSet' && resource['metadata']['name'] === 'redis') as Yaml;
  const [container] = podSpecOf(redis)['containers'] as Yaml[];
  const k8sSizingWith = (args: string[]): RedisSizing => ({
    maxmemory: redisBytes(redisServerOption(args, 'maxmemory') ?? '0'),
    policy: redisServerOption(args, 'maxmemory-policy'),
    limit: quantityBytes(container['resources']['limits']['memory']),
    request: quantityBytes(container['resources']['requests']['memory']),
    disk: quantityBytes(redis['spec']['volumeClaimTemplates'][0]['spec']['resources']['requests']['storage']),
  });
  const k8sSizing = k8sSizingWith(container['args']);

  it('counts one stream per published event type, at the documented bytes per entry', () => {
    expect(publishedEventTypes()).toEqual(['ingestion.transfer-ingested', 'ledger.balance-changed']);
    expect(bytesPerEntry).toBe(440);
    expect(streamMaxLen).toBe(1_000_000);
  });

  it('sizes the Kubernetes Redis for the retained streams, a lag, and an AOF rewrite, without eviction', () => {
    expect(sizingFindings(k8sSizing, streams, streamMaxLen, bytesPerEntry)).toEqual([]);
  });

  it('gives redis-server each option once, in Kubernetes and in Compose (it would use the last, silently)', () => {
    expect({ k8s: repeatedRedisServerOptions(container['args']), compose: repeatedRedisServerOptions(readCompose()['services']['redis']['command']) }).toEqual({ k8s: [], compose: [] });
  });

  it('reads a repeated option as redis-server does, the last one winning (the checks can fail)', () => {
    const appended = [...container['args'], '--maxmemory', '3gb', '--MAXMEMORY-POLICY allkeys-lru'];
    expect(repeatedRedisServerOptions(appended)).toEqual(['maxmemory', 'maxmemory-policy']);
    expect(sizingFindings(k8sSizingWith(appended), streams, streamMaxLen, bytesPerEntry)).toEqual([
      'maxmemory-policy allkeys-lru: streams could be evicted',
      'memory limit 2048 MiB leaves no room for an AOF rewrite fork',
      'volume 5120 MiB cannot hold the AOF through a rewrite',
    ]);
  });

  it('sizes the Compose Redis the same way', () => {
    const service = readCompose()['services']['redis'] as Yaml;
    const composeSizing: RedisSizing = {
      maxmemory: redisBytes(redisServerOption(service['command'], 'maxmemory') ?? '0'),
      policy: redisServerOption(service['command'], 'maxmemory-policy'),
      limit: dockerBytes(String(service['mem_limit'])),
    };
    expect(composeSizing).toEqual({ maxmemory: k8sSizing.maxmemory, policy: k8sSizing.policy, limit: k8sSizing.limit });
    expect(sizingFindings(composeSizing, streams, streamMaxLen, bytesPerEntry)).toEqual([]);
  });

  it('fails the sizing the issue found: a 1Gi limit without maxmemory (the check can fail)', () => {
    const before = { maxmemory: 0, policy: undefined, limit: quantityBytes('1Gi'), request: quantityBytes('256Mi'), disk: quantityBytes('5Gi') };
    expect(sizingFindings(before, streams, streamMaxLen, bytesPerEntry)).toEqual([
      'maxmemory-policy undefined: streams could be evicted',
      'maxmemory 0 MiB leaves -840 MiB beside 840 MiB of retained streams',
      'memory request differs from the limit: the node may evict Redis first',
    ]);
    // A third event type at the same retention no longer fits beside the lag.
    expect(sizingFindings(k8sSizing, streams + 1, streamMaxLen, bytesPerEntry)).toEqual([expect.stringMatching(/^maxmemory 1280 MiB leaves/)]);
  });
});

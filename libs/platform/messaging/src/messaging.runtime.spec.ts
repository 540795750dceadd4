import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * `MessagingRuntime` is the one owner of messaging's background work: no other provider of this
 * library may start or stop anything from a Nest lifecycle hook (they would run in an order no
 * one chose), except the pool, which closes last.
 */
const HOOK = /^\s+(?:async\s+)?(onModuleInit|onApplicationBootstrap|onModuleDestroy|beforeApplicationShutdown|onApplicationShutdown)\s*\(/gm;
const ALLOWED = new Map([
  ['messaging.runtime.ts', ['onApplicationBootstrap', 'onModuleDestroy', 'beforeApplicationShutdown']],
  ['sql/messaging-connections.ts', ['onApplicationShutdown']],
]);

/** The lifecycle hook methods a source file declares. */
export function lifecycleHooks(source: string): string[] {
  return [...source.matchAll(HOOK)].map((match) => match[1]);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test-support' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.includes('fixture') ? [path] : [];
  });
}

describe('MessagingRuntime owns every start and stop', () => {
  it('no other file of the library has a Nest lifecycle hook (but the pool’s close)', () => {
    const found = new Map(
      sources(__dirname)
        .map((path) => [relative(__dirname, path), lifecycleHooks(readFileSync(path, 'utf8'))] as const)
        .filter(([, hooks]) => hooks.length > 0),
    );
    expect(found).toEqual(ALLOWED);
  });

  it('finds a hook, async or not, and ignores calls and mentions', () => {
    const planted = [
      'export class Poller {',
      '  async onModuleDestroy(): Promise<void> {}',
      '  onApplicationBootstrap(): void {',
      '    this.other.onModuleInit();',
      '  }',
      '  // runs before onApplicationShutdown()',
      '}',
    ].join('\n');
    expect(lifecycleHooks(planted)).toEqual(['onModuleDestroy', 'onApplicationBootstrap']);
  });
});

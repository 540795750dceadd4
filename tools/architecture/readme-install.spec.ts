import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * README "Use Modulith in an existing NestJS app": every peer its `npm install` lines name carries
 * the major version the platform packages accept. An unpinned name installs the registry's latest,
 * which can be a major the peers refuse (`@nestjs/cqrs` 12 wants `@nestjs/common` 12, and
 * `@modulith/messaging` wants 11), so the documented command ends in npm's ERESOLVE.
 */

const WORKSPACE_ROOT = join(__dirname, '..', '..');
const PACKAGES = ['core', 'database', 'messaging', 'http', 'observability', 'testing'];

/** Every peer range the platform packages declare, by package name. */
function peerRanges(): Map<string, string[]> {
  const ranges = new Map<string, string[]>();
  for (const lib of PACKAGES) {
    const manifest = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'libs/platform', lib, 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> };
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) ranges.set(name, [...(ranges.get(name) ?? []), range]);
  }
  return ranges;
}

/** The `npm install` arguments of the README section that are npm package names (not tarballs or flags). */
export function installedSpecs(readme: string): string[] {
  const start = readme.indexOf('## Use Modulith in an existing NestJS app');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1)).replace(/\\\n\s*/g, ' ');
  return [...section.matchAll(/npm install ([^`\n&]+)/g)]
    .flatMap(([, args]) => args.trim().split(/\s+/))
    .filter((arg) => !arg.startsWith('-') && !arg.includes('/path/') && !arg.endsWith('.tgz'));
}

/** `@nestjs/cqrs@^11` → ['@nestjs/cqrs', '^11']; `pg` → ['pg', undefined]. */
function split(spec: string): [string, string | undefined] {
  const at = spec.indexOf('@', 1);
  return at < 0 ? [spec, undefined] : [spec.slice(0, at), spec.slice(at + 1)];
}

const major = (range: string): string | undefined => /^[\^~]?(\d+)/.exec(range)?.[1];

describe('README install lines', () => {
  const readme = readFileSync(join(WORKSPACE_ROOT, 'README.md'), 'utf8');

  it('finds the install lines', () => {
    expect(installedSpecs(readme)).toEqual(expect.arrayContaining([expect.stringMatching(/^@nestjs\/cqrs/), expect.stringMatching(/^@types\/pg/)]));
  });

  it('pins every peer it names to the major the platform packages accept', () => {
    const peers = peerRanges();
    const wrong = installedSpecs(readme)
      .map(split)
      .filter(([name]) => peers.has(name))
      .filter(([name, range]) => range === undefined || !(peers.get(name) ?? []).every((peer) => major(peer) === major(range)))
      .map(([name, range]) => `${name}@${range ?? '(latest)'} (peers: ${(peers.get(name) ?? []).join(', ')})`);
    expect(wrong).toEqual([]);
  });
});

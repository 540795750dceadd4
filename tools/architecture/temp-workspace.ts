import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';

/** Never copied: installed packages, VCS data, Nx caches, local database data. */
const SKIP_ANYWHERE = new Set(['node_modules', '.git', '.nx', '.data']);
/** Build output and scratch space, skipped at the workspace root. */
const SKIP_AT_ROOT = new Set(['dist', 'tmp', 'coverage']);

export interface LintMessage {
  ruleId: string | null;
  message: string;
  line: number;
  severity: number;
  fatal?: boolean;
}

export interface LintResult {
  /** Path relative to the temporary workspace root, with forward slashes. */
  file: string;
  messages: LintMessage[];
}

export interface LintRun {
  results: LintResult[];
  stdout: string;
}

export interface ProjectFixture {
  root: string;
  name: string;
  tags: string[];
  projectType?: 'library' | 'application';
  /** Gives the project a `build` target, so enforceBuildableLibDependency does not mask the tag rules. */
  buildable?: boolean;
}

/**
 * A throwaway copy of the workspace (sources only, node_modules symlinked) in which Nx and ESLint
 * run as child processes with the copy as their workspace root, so nothing touches the real tree.
 */
export class TempWorkspace {
  private constructor(
    readonly root: string,
    private readonly nodeModules: string,
  ) {}

  static copyOf(source: string, prefix = 'modulith-boundaries-'): TempWorkspace {
    const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
    cpSync(source, root, { recursive: true, filter: (src) => keep(relative(source, src), src) });
    const nodeModules = join(root, 'node_modules');
    symlinkSync(join(source, 'node_modules'), nodeModules, 'junction');
    return new TempWorkspace(root, nodeModules);
  }

  exists(file: string): boolean {
    return existsSync(join(this.root, file));
  }

  read(file: string): string {
    return readFileSync(join(this.root, file), 'utf8');
  }

  /** Runs the Nx CLI in the copy, e.g. `nx(['g', '@modulith/tools:module', 'invoices'])`. */
  nx(args: string[], timeoutMs = 120_000): SpawnSyncReturns<string> {
    return this.node(binOf(this.nodeModules, 'nx', 'nx'), args, timeoutMs);
  }

  /** Runs a Node script of the copy (path relative to its root) with the copy as its workspace. */
  runScript(script: string, args: string[] = [], timeoutMs = 120_000): SpawnSyncReturns<string> {
    return this.node(join(this.root, script), args, timeoutMs);
  }

  write(file: string, content: string): void {
    const path = join(this.root, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }

  remove(file: string): void {
    rmSync(join(this.root, file), { force: true });
  }

  addPathAlias(alias: string, target: string): void {
    const path = join(this.root, 'tsconfig.base.json');
    const tsconfig = JSON.parse(readFileSync(path, 'utf8'));
    tsconfig.compilerOptions.paths[alias] = [target];
    writeFileSync(path, JSON.stringify(tsconfig, null, 2));
  }

  addProject(fixture: ProjectFixture): void {
    const build = {
      executor: '@nx/js:tsc',
      outputs: ['{options.outputPath}'],
      options: {
        outputPath: `dist/${fixture.root}`,
        main: `${fixture.root}/src/index.ts`,
        tsConfig: `${fixture.root}/tsconfig.lib.json`,
      },
    };
    const project = {
      name: fixture.name,
      sourceRoot: `${fixture.root}/src`,
      projectType: fixture.projectType ?? 'library',
      tags: fixture.tags,
      targets: fixture.buildable ? { build } : {},
    };
    this.write(`${fixture.root}/project.json`, JSON.stringify(project, null, 2));
    this.write(`${fixture.root}/src/index.ts`, `export const name = '${fixture.name}';\n`);
  }

  /** Names from every project.json in the copy. */
  declaredProjects(): string[] {
    return walk(this.root, (file) => file.endsWith(`${sep}project.json`)).map(
      (file) => JSON.parse(readFileSync(file, 'utf8')).name as string,
    );
  }

  /** Every file under the given folders that ends with `suffix`, relative to the root. */
  filesUnder(folders: string[], suffix: string): string[] {
    return folders
      .filter((folder) => this.exists(folder))
      .flatMap((folder) => walk(join(this.root, folder), (file) => file.endsWith(suffix)))
      .map((file) => this.relativePath(file));
  }

  /**
   * Computes the Nx project graph of the copy from scratch and writes it where
   * `@nx/enforce-module-boundaries` reads it (readCachedProjectGraph: the workspace data folder).
   * Returns the project names Nx found.
   */
  computeProjectGraph(): string[] {
    rmSync(join(this.root, '.nx', 'workspace-data'), { recursive: true, force: true });
    const run = this.node(binOf(this.nodeModules, 'nx', 'nx'), ['show', 'projects', '--json']);
    if (run.status !== 0) {
      throw new Error(`nx show projects failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    }
    return JSON.parse(run.stdout.slice(run.stdout.indexOf('['))) as string[];
  }

  /** Runs the ESLint CLI on paths relative to the root, with the copy's eslint.config.mjs. */
  lint(paths: string[]): LintRun {
    const output = join(this.root, 'tmp', 'eslint-results.json');
    rmSync(output, { force: true });
    const args = ['--format', 'json', '--output-file', output, '--no-warn-ignored', ...paths];
    const run = this.node(binOf(this.nodeModules, 'eslint', 'eslint'), args);
    // 0: clean, 1: lint errors; anything else is a crash or a configuration error.
    if (run.status !== 0 && run.status !== 1) {
      throw new Error(`eslint failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    }
    const raw = JSON.parse(readFileSync(output, 'utf8')) as { filePath: string; messages: LintMessage[] }[];
    return {
      results: raw.map((r) => ({ file: this.relativePath(r.filePath), messages: r.messages })),
      stdout: run.stdout,
    };
  }

  dispose(): void {
    if (existsSync(this.nodeModules)) unlinkSync(this.nodeModules);
    rmSync(this.root, { recursive: true, force: true });
  }

  private relativePath(file: string): string {
    return relative(this.root, file).split(sep).join('/');
  }

  private node(script: string, args: string[], timeoutMs = 120_000): SpawnSyncReturns<string> {
    return spawnSync(process.execPath, [script, ...args], {
      cwd: this.root,
      env: this.env(),
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
  }

  /** The caller's environment without its Nx settings, pointed at the copy, offline and cache-free. */
  env(): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('NX_')));
    return {
      ...env,
      NX_WORKSPACE_ROOT_PATH: this.root,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_SKIP_NX_CACHE: 'true',
      NX_TUI: 'false',
      NX_CACHE_DIRECTORY: join(this.root, '.nx', 'cache'),
      NX_WORKSPACE_DATA_DIRECTORY: join(this.root, '.nx', 'workspace-data'),
    };
  }
}

function keep(rel: string, absolute: string): boolean {
  if (rel === '') return true;
  const segments = rel.split(sep);
  if (segments.some((segment) => SKIP_ANYWHERE.has(segment))) return false;
  if (segments.length === 1 && SKIP_AT_ROOT.has(segments[0])) return false;
  const stat = lstatSync(absolute, { throwIfNoEntry: false });
  return !!stat && (stat.isDirectory() || stat.isFile() || stat.isSymbolicLink());
}

function walk(folder: string, match: (file: string) => boolean): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return SKIP_ANYWHERE.has(entry.name) ? [] : walk(path, match);
    return entry.isFile() && match(path) ? [path] : [];
  });
}

function binOf(nodeModules: string, pkg: string, name: string): string {
  const manifest = JSON.parse(readFileSync(join(nodeModules, pkg, 'package.json'), 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[name];
  return join(nodeModules, pkg, bin);
}

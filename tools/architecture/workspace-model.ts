import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createProjectGraphAsync, workspaceRoot, type ProjectGraph } from '@nx/devkit';

/** One Nx project as the architecture checks and the docs see it. */
export interface ProjectInfo {
  name: string;
  /** Folder relative to the workspace root, forward slashes. */
  root: string;
  tags: string[];
  /** The `name` in the project's package.json (its import path here), if it has one. */
  packageName?: string;
  /** Other workspace projects this one depends on (npm packages left out), sorted. */
  dependencies: string[];
}

/** A TypeScript source file of a project, path relative to the workspace root. */
export interface SourceFile {
  project: string;
  path: string;
  text: string;
}

/** One `depConstraints` entry of eslint.config.mjs. */
export interface DependencyRule {
  sourceTag: string;
  onlyDependOnLibsWithTags: string[];
}

/** What the checks and the docs read: plain data, so tests can plant violations in it. */
export interface WorkspaceModel {
  projects: ProjectInfo[];
  files: SourceFile[];
  /** The tag rules `@nx/enforce-module-boundaries` enforces. */
  lintRules: DependencyRule[];
}

const SKIP_FOLDERS = new Set(['node_modules', 'dist', '.nx', 'tmp', 'coverage', '.data']);

/** The value of a project's `type:` or `scope:` tag, if it has exactly one. */
export function tagValue(project: Pick<ProjectInfo, 'tags'>, kind: 'type' | 'scope'): string | undefined {
  const values = project.tags.filter((tag) => tag.startsWith(`${kind}:`)).map((tag) => tag.slice(kind.length + 1));
  return values.length === 1 ? values[0] : undefined;
}

/** Test code and test fixtures: they may name throwaway schemas and events that production never has. */
export function isTestSource(path: string): boolean {
  return /\.spec\.[cm]?[jt]sx?$|\.fixture\.[cm]?[jt]sx?$|(^|\/)(test-support|testing)\/|(^|\/)testing\.ts$/.test(path);
}

/** Source read by the checks: TypeScript and JavaScript in every flavour, and SQL files a module may load. */
const SOURCE_FILE = /\.(?:[cm]?[jt]sx?|sql)$/;

function sourceFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return SKIP_FOLDERS.has(entry.name) ? [] : sourceFiles(path);
    return entry.isFile() && SOURCE_FILE.test(entry.name) && !/\.d\.[cm]?ts$/.test(entry.name) ? [path] : [];
  });
}

/** The project graph's workspace projects, with their workspace dependencies. */
export function projectsOf(graph: ProjectGraph): ProjectInfo[] {
  return Object.values(graph.nodes)
    .map((node) => ({
      name: node.name,
      root: node.data.root,
      tags: [...(node.data.tags ?? [])].sort(),
      dependencies: [...new Set((graph.dependencies[node.name] ?? []).map((d) => d.target).filter((target) => graph.nodes[target] && target !== node.name))].sort(),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Reads `depConstraints` from eslint.config.mjs (the single source of the allowed dependencies). */
export function parseLintRules(eslintConfig: string): DependencyRule[] {
  const rules = [...eslintConfig.matchAll(/\{\s*sourceTag:\s*'([^']+)',\s*onlyDependOnLibsWithTags:\s*\[([^\]]*)\]\s*\}/g)].map((match) => ({
    sourceTag: match[1],
    onlyDependOnLibsWithTags: [...match[2].matchAll(/'([^']+)'/g)].map((tag) => tag[1]),
  }));
  if (rules.length === 0) throw new Error('eslint.config.mjs: found no depConstraints entries of the form { sourceTag: ..., onlyDependOnLibsWithTags: [...] }');
  return rules;
}

/**
 * Builds the model of the workspace at `root` (the Nx workspace this process runs in): the
 * project graph, computed without the daemon, and every source file of every project (see `SOURCE_FILE`).
 */
export async function readWorkspace(root: string = workspaceRoot): Promise<WorkspaceModel> {
  process.env['NX_DAEMON'] = 'false';
  const graph = await createProjectGraphAsync({ exitOnError: false });
  const projects = projectsOf(graph).map((project) => {
    const manifest = join(root, project.root, 'package.json');
    const packageName = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')).name as string | undefined) : undefined;
    return packageName ? { ...project, packageName } : project;
  });
  const roots = [...projects].sort((a, b) => b.root.length - a.root.length);
  const files: SourceFile[] = [];
  const seen = new Set<string>();
  for (const project of roots) {
    for (const file of sourceFiles(join(root, project.root))) {
      const path = relative(root, file).split(sep).join('/');
      if (seen.has(path)) continue; // a nested project's file belongs to the nested project
      seen.add(path);
      files.push({ project: project.name, path, text: readFileSync(file, 'utf8') });
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { projects, files, lintRules: parseLintRules(readFileSync(join(root, 'eslint.config.mjs'), 'utf8')) };
}

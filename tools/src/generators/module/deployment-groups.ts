import type { Tree } from '@nx/devkit';

/** The deployment files that group modules into processes: a new module joins the core group. */
export const COMPOSE_FILE = 'docker/compose.yml';
export const K8S_CORE_FILE = 'docker/k8s/core.yaml';

// compose: the `MODULES:` of the service that runs ingestion (the core group).
const COMPOSE_CORE_MODULES = /^(\s*MODULES:\s*)([^\n]*\bingestion\b[^\n]*)$/m;
// k8s: the value that follows `- name: MODULES` in the core Deployment.
const K8S_MODULES_VALUE = /(-\s*name:\s*MODULES\s*\n\s*value:\s*)([^\n]+)/;

function appendTo(text: string, pattern: RegExp, name: string): string | undefined {
  const match = pattern.exec(text);
  if (!match) return undefined;
  const modules = match[2].trim().replace(/^"|"$/g, '').split(',').map((module) => module.trim());
  if (modules.includes(name)) return text;
  return text.replace(pattern, `${match[1]}${[...modules, name].join(',')}`);
}

/**
 * Adds `name` to the core module group of the split topology (compose and Kubernetes), so every
 * module in the catalog is deployed somewhere. Files that are absent are left alone; a file
 * whose shape is not recognised is reported rather than guessed at.
 */
export function addToCoreGroup(tree: Tree, name: string): string[] {
  const warnings: string[] = [];
  for (const [file, pattern] of [
    [COMPOSE_FILE, COMPOSE_CORE_MODULES],
    [K8S_CORE_FILE, K8S_MODULES_VALUE],
  ] as const) {
    const text = tree.read(file, 'utf-8');
    if (text === null) continue;
    const updated = appendTo(text, pattern, name);
    if (updated === undefined) warnings.push(`${file}: no MODULES list found; add "${name}" to a module group by hand`);
    else tree.write(file, updated);
  }
  return warnings;
}

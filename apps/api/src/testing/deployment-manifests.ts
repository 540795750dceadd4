import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';

/** The repository's docker/ folder: Dockerfile, compose.yml, k8s/ and the vendored schemas. */
export const DOCKER_DIR = path.resolve(__dirname, '../../../../docker');
export const K8S_DIR = path.join(DOCKER_DIR, 'k8s');
export const REPOSITORY_ROOT = path.resolve(DOCKER_DIR, '..');

/** A parsed YAML or JSON document, read field by field in the deployment specs. */
export type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML

/** docker/compose.yml with its `<<` merge keys resolved, as Compose reads it. */
export function readCompose(): Yaml {
  return YAML.parse(readFileSync(path.join(DOCKER_DIR, 'compose.yml'), 'utf8'), { merge: true }) as Yaml;
}

export function readKustomization(): Yaml {
  return YAML.parse(readFileSync(path.join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as Yaml;
}

/** Every resource the kustomization lists, in order; throws on a YAML error. */
export function readK8sResources(kustomization: Yaml = readKustomization()): Yaml[] {
  return (kustomization['resources'] as string[]).flatMap((file) =>
    YAML.parseAllDocuments(readFileSync(path.join(K8S_DIR, file), 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
      return document.toJSON() as Yaml;
    }),
  );
}

/** `KEY=value` lines of an env file (comments and blank lines skipped), as `kubectl --from-env-file` reads them. */
export function readEnvFile(file: string): Record<string, string> {
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
  return Object.fromEntries(entries);
}

/** The pod template of a workload (Deployment, StatefulSet, Job). */
export function podSpecOf(workload: Yaml): Yaml {
  return workload['spec']['template']['spec'] as Yaml;
}

/**
 * Bytes of a Kubernetes quantity (`512Mi`, `2Gi`, `1G`); throws on a form it does not know.
 * Binary suffixes are powers of 1024, decimal ones of 1000.
 */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * unit;
}

/** Bytes of a Redis memory setting (`1280mb`: "mb" is 1024², "m" is 10⁶, as redis.conf says). */
export function redisBytes(setting: string): number {
  const match = /^(\d+)(kb|mb|gb|k|m|g)?$/i.exec(setting);
  if (!match) throw new Error(`not a Redis memory setting: ${setting}`);
  const unit = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, k: 1e3, m: 1e6, g: 1e9 }[(match[2] ?? '').toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** Bytes of a Docker memory setting (`2g`: Docker's suffixes are powers of 1024). */
export function dockerBytes(setting: string): number {
  const match = /^(\d+)([bkmg])?$/i.exec(setting);
  if (!match) throw new Error(`not a Docker memory setting: ${setting}`);
  const unit = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

/**
 * redis-server's command-line options, as it reads them: each `--name` starts an option (names are
 * case-insensitive, and `"--name value"` in one argument also counts) whose value is every argument
 * up to the next `--name`, joined by spaces. A leading program name or config file is skipped.
 * Options keep their order, repeats included.
 */
export function redisServerOptions(args: readonly string[]): Array<{ name: string; value: string }> {
  const options: Array<{ name: string; words: string[] }> = [];
  for (const arg of args) {
    const [first, ...rest] = arg.startsWith('--') ? arg.slice(2).trim().split(/\s+/) : [];
    if (first !== undefined) options.push({ name: first.toLowerCase(), words: rest });
    else options.at(-1)?.words.push(arg);
  }
  return options.map(({ name, words }) => ({ name, value: words.filter((word) => word !== '').join(' ') }));
}

/** The value redis-server uses for an option: redis.conf says "Redis always uses the last processed line as value". */
export function redisServerOption(args: readonly string[], name: string): string | undefined {
  return redisServerOptions(args).findLast((option) => option.name === name.toLowerCase())?.value;
}

/** Options given more than once: only the last counts, so an earlier one reads as a setting that is not in force. */
export function repeatedRedisServerOptions(args: readonly string[]): string[] {
  const names = redisServerOptions(args).map((option) => option.name);
  return [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
}

import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { resolveMessagingConfig, type MessagingConfig } from '@modulith/messaging';
import { appConfigFromEnv } from './app.config';
import { MODULE_CATALOG } from './module-catalog';
import { readEnvFile } from './testing/deployment-manifests';

// No Docker engine or cluster here: the deployment files are parsed and checked against the app
// itself (its config readers and module catalog), so a renamed variable or module fails here.
const DOCKER = path.resolve(__dirname, '../../../docker');
const K8S = path.join(DOCKER, 'k8s');
const ALL_MODULES = Object.keys(MODULE_CATALOG).sort();
/** Modules whose handlers append to the outbox: a process hosting one must run the relay. */
const PRODUCERS = ['ingestion', 'ledger'];
const MAIN_IN_IMAGE = 'dist/main.js';
/** The Secret the operator creates (the kustomization deploys none), with placeholder values. */
const SECRET_EXAMPLE = path.join(K8S, 'secrets.env.example');
const SAMPLE_POD_NAME = 'analytics-5d8c7b9f6-x2k9p';

type Env = Record<string, string>;
type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML

/** Compose-style `${VAR}`, `${VAR:-default}`, `${VAR:?message}` with test values. */
function interpolate(value: unknown): string {
  return String(value).replace(/\$\{(\w+)(?::?[-?]([^}]*))?\}/g, (_match, name: string, fallback?: string) =>
    name === 'ADMIN_TOKEN' ? 'test-token' : (fallback ?? ''),
  );
}

function envOf(entries: Record<string, unknown> | undefined): Env {
  return Object.fromEntries(Object.entries(entries ?? {}).map(([key, value]) => [key, interpolate(value)]));
}

/** Messaging's settings as the app gives them from `env` (its mapping, then the library's defaults and checks). */
function messagingConfigFromEnv(env: Env): MessagingConfig {
  return resolveMessagingConfig(appConfigFromEnv(env).messaging);
}

/** Reads the env the way the app will: fails on a malformed or inconsistent value. */
function assertAppAccepts(env: Env, where: string): void {
  expect(() => messagingConfigFromEnv(env)).not.toThrow();
  expect(() => appConfigFromEnv(env)).not.toThrow();
  for (const module of appConfigFromEnv(env).modules ?? []) expect({ where, known: ALL_MODULES }).toEqual({ where, known: expect.arrayContaining([module]) });
}

function relayRuns(env: Env): boolean {
  return messagingConfigFromEnv(env).relayEnabled;
}

describe('docker/compose.yml', () => {
  const compose = YAML.parse(readFileSync(path.join(DOCKER, 'compose.yml'), 'utf8'), { merge: true }) as Yaml;
  const services = compose['services'] as Record<string, Yaml>;
  const appServices = Object.entries(services).filter(([name, service]) => String(service['image']).startsWith('modulith/api') && name !== 'migrate');
  const inProfile = (profile: string) => appServices.filter(([, service]) => (service['profiles'] as string[] | undefined)?.includes(profile));

  it('has PostgreSQL, Redis with append-only persistence, a one-shot migration and both topologies', () => {
    expect(Object.keys(services).sort()).toEqual(['analytics', 'app', 'core', 'migrate', 'notifications', 'postgres', 'redis']);
    expect(services['redis']['command']).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--appendfsync']));
    expect(services['migrate']['command']).toEqual(['node', MAIN_IN_IMAGE, 'migrate']);
    expect(services['migrate']['restart']).toBe('no');
    expect(inProfile('single').map(([name]) => name)).toEqual(['app']);
    expect(inProfile('split').map(([name]) => name)).toEqual(['core', 'analytics', 'notifications']);
  });

  it('lets the restart policy supervise every long-running service, each with a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'migrate') continue;
      expect(`${name}: ${service['restart']}`).toMatch(/: (always|unless-stopped|on-failure)$/);
      expect(service['healthcheck']?.['test']).toBeDefined();
    }
  });

  it('only depends on services that exist, in a profile that starts them', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service['depends_on'] ?? {})) {
        expect(services[dependency]).toBeDefined();
        const needed = (services[dependency]['profiles'] as string[] | undefined) ?? [];
        const own = (service['profiles'] as string[] | undefined) ?? [];
        // A dependency with profiles must be started by every profile of the dependent.
        if (needed.length > 0) expect(`${name} → ${dependency}: ${own.every((profile) => needed.includes(profile))}`).toBe(`${name} → ${dependency}: true`);
      }
    }
  });

  it('configures the single process with every module in-process, and the split one over Redis covering every module once', () => {
    for (const [name, service] of appServices) assertAppAccepts(envOf(service['environment']), name);
    const [[, single]] = inProfile('single');
    expect(messagingConfigFromEnv(envOf(single['environment'])).eventTransport).toBe('inprocess');
    expect(appConfigFromEnv(envOf(single['environment'])).modules).toBeUndefined();

    const split = inProfile('split').map(([name, service]) => ({ name, service, env: envOf(service['environment']) }));
    const modules = split.flatMap(({ env }) => appConfigFromEnv(env).modules ?? []);
    expect([...modules].sort()).toEqual(ALL_MODULES);
    for (const { name, env } of split) {
      const config = messagingConfigFromEnv(env);
      expect(`${name}: ${config.eventTransport} ${config.redisUrl}`).toBe(`${name}: redis redis://redis:6379`);
      const hostsProducer = (appConfigFromEnv(env).modules ?? []).some((module) => PRODUCERS.includes(module));
      expect(`${name} relays: ${relayRuns(env)}`).toBe(`${name} relays: ${hostsProducer}`);
    }
    expect(services['notifications']['deploy']['replicas']).toBeGreaterThanOrEqual(2);
  });
});

describe('docker/k8s', () => {
  const files = readdirSync(K8S).filter((file) => file.endsWith('.yaml'));
  const kustomization = YAML.parse(readFileSync(path.join(K8S, 'kustomization.yaml'), 'utf8')) as Yaml;
  const documents: Yaml[] = (kustomization['resources'] as string[]).flatMap((file) =>
    YAML.parseAllDocuments(readFileSync(path.join(K8S, file), 'utf8')).map((document) => {
      expect(document.errors).toEqual([]);
      return document.toJSON() as Yaml;
    }),
  );
  const ofKind = (kind: string): Yaml[] => documents.filter((document) => document['kind'] === kind);
  const named = (kind: string, name: string): Yaml | undefined => ofKind(kind).find((document) => document['metadata']['name'] === name);
  const workloads = [...ofKind('Deployment'), ...ofKind('StatefulSet'), ...ofKind('Job')];
  const containerEnv = (container: Yaml): Env => {
    const env: Env = {};
    for (const source of container['envFrom'] ?? []) {
      if (source['configMapRef']) Object.assign(env, named('ConfigMap', source['configMapRef']['name'])?.['data']);
      if (source['secretRef']?.['name'] === 'modulith-secrets') Object.assign(env, readEnvFile(SECRET_EXAMPLE));
    }
    for (const variable of container['env'] ?? []) {
      // The downward API's pod name, as Kubernetes would give it (Deployment, ReplicaSet hash, suffix).
      const fromPodName = variable['valueFrom']?.['fieldRef']?.['fieldPath'] === 'metadata.name';
      env[variable['name']] = fromPodName ? SAMPLE_POD_NAME : String(variable['value']);
    }
    return env;
  };

  it('lists every manifest in the kustomization, and each parses into named resources', () => {
    expect([...(kustomization['resources'] as string[])].sort()).toEqual(files.filter((file) => file !== 'kustomization.yaml').sort());
    for (const document of documents) {
      expect(document['apiVersion']).toEqual(expect.any(String));
      expect(document['metadata']?.['name']).toEqual(expect.any(String));
    }
  });

  it('runs one Deployment per module group, all modules covered once, relays where producers live', () => {
    const deployments = ofKind('Deployment');
    const groups = deployments.map((deployment) => {
      const [container] = deployment['spec']['template']['spec']['containers'];
      const env = containerEnv(container);
      assertAppAccepts(env, deployment['metadata']['name']);
      return { name: deployment['metadata']['name'] as string, env, replicas: deployment['spec']['replicas'] as number };
    });
    expect(groups.flatMap(({ env }) => appConfigFromEnv(env).modules ?? []).sort()).toEqual(ALL_MODULES);
    for (const { name, env } of groups) {
      expect(messagingConfigFromEnv(env).eventTransport).toBe('redis');
      const hostsProducer = (appConfigFromEnv(env).modules ?? []).some((module) => PRODUCERS.includes(module));
      expect(`${name} relays: ${relayRuns(env)}`).toBe(`${name} relays: ${hostsProducer}`);
    }
    expect(groups.find(({ name }) => name === 'notifications')?.replicas).toBeGreaterThanOrEqual(2);
  });

  it("names each pod's Redis consumer after the pod: distinct per replica, kept across container restarts", () => {
    for (const deployment of ofKind('Deployment')) {
      const [container] = deployment['spec']['template']['spec']['containers'];
      const variable = (container['env'] as Yaml[] | undefined)?.find((entry) => entry['name'] === 'REDIS_CONSUMER_NAME');
      expect({ deployment: deployment['metadata']['name'], from: variable?.['valueFrom']?.['fieldRef']?.['fieldPath'] }).toEqual({
        deployment: deployment['metadata']['name'],
        from: 'metadata.name',
      });
      expect(messagingConfigFromEnv(containerEnv(container)).redisConsumerName).toBe(SAMPLE_POD_NAME);
    }
  });

  it('probes liveness on /health and readiness on /ready, on a declared port, with config from the ConfigMap and Secret', () => {
    for (const deployment of ofKind('Deployment')) {
      const spec = deployment['spec'];
      expect(spec['template']['metadata']['labels']).toMatchObject(spec['selector']['matchLabels']);
      for (const container of spec['template']['spec']['containers'] as Yaml[]) {
        const ports = (container['ports'] as Yaml[]).map((port) => port['name']);
        expect(container['livenessProbe']['httpGet']).toMatchObject({ path: '/health' });
        expect(container['readinessProbe']['httpGet']).toMatchObject({ path: '/ready' });
        expect(ports).toContain(container['livenessProbe']['httpGet']['port']);
        expect(ports).toContain(container['readinessProbe']['httpGet']['port']);
        expect(container['args']).toEqual(['node', MAIN_IN_IMAGE, 'serve']);
        expect(container['envFrom']).toEqual([{ configMapRef: { name: 'modulith-config' } }, { secretRef: { name: 'modulith-secrets' } }]);
      }
    }
    expect(named('ConfigMap', 'modulith-config')).toBeDefined();
    expect(Object.keys(readEnvFile(SECRET_EXAMPLE)).sort()).toEqual(['ADMIN_TOKEN', 'DATABASE_URL']);
  });

  it('points every Service at pods that exist and ports they declare; Redis keeps an append-only file; migrations run as a Job', () => {
    for (const service of ofKind('Service')) {
      const selector = service['spec']['selector'] as Record<string, string>;
      const target = workloads.find((workload) => Object.entries(selector).every(([key, value]) => workload['spec']['template']['metadata']['labels'][key] === value));
      expect(`${service['metadata']['name']} → ${target?.['metadata']['name']}`).toBe(`${service['metadata']['name']} → ${service['metadata']['name']}`);
      const ports = (target?.['spec']['template']['spec']['containers'] as Yaml[]).flatMap((container) => (container['ports'] as Yaml[]).map((port) => port['name']));
      for (const port of service['spec']['ports'] as Yaml[]) expect(ports).toContain(port['targetPort']);
    }
    const [redis] = named('StatefulSet', 'redis')?.['spec']['template']['spec']['containers'] ?? [];
    expect(redis['args']).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    const [migrate] = named('Job', 'modulith-migrate')?.['spec']['template']['spec']['containers'] ?? [];
    expect(migrate['command']).toEqual(['node', MAIN_IN_IMAGE, 'migrate']);
    assertAppAccepts(containerEnv(migrate), 'migrate');
  });
});

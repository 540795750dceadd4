import * as path from 'node:path';
import { K8S_DIR, podSpecOf, readCompose, readEnvFile, readK8sResources, readKustomization, type Yaml } from './testing/deployment-manifests';

// What an operator relies on when applying docker/k8s, beyond schema validity: pods (and Compose
// services) that run hardened, no credential outside the Secret, a base kustomization that deploys
// exactly the files checked here, budgets for voluntary disruptions, no placeholder Secret, and a
// migration Job that a second `kubectl apply -k` with a new image does not trip over.

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job'];
/** Longest image tag that keeps `modulith-migrate-<tag>` a valid 63-character label value (the Job's pods carry it as job-name). */
const MAX_TAG_LENGTH = 63 - 'modulith-migrate-'.length;
/** Linux capabilities a container may add back after dropping ALL: none today. */
const ALLOWED_CAPABILITIES: readonly string[] = [];
/** The node namespaces a pod must never share. */
const HOST_NAMESPACES = ['hostNetwork', 'hostPID', 'hostIPC'];
/**
 * The only kustomization fields the base may use: the specs read the listed files, not the kustomize
 * output, so a patch or generator here would deploy something no check has seen.
 */
const BASE_KUSTOMIZATION_FIELDS = ['apiVersion', 'kind', 'namespace', 'resources', 'images', 'replacements'];
/** Keys that name a credential; such values belong in modulith-secrets, never in a ConfigMap or a literal env value. */
const CREDENTIAL_KEY = /PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|API_?KEY|PRIVATE_?KEY/i;
/** Keys of the Secret the operator creates: the same key in a ConfigMap would leak or shadow it. */
const SECRET_KEYS = Object.keys(readEnvFile(path.join(K8S_DIR, 'secrets.env.example')));

/** What is wrong with one pod template's security settings, empty when nothing is. */
function securityFindings(workload: Yaml): string[] {
  const name = `${workload['kind']}/${workload['metadata']['name']}`;
  const pod = podSpecOf(workload);
  const podContext = (pod['securityContext'] ?? {}) as Yaml;
  const findings: string[] = [];
  if (pod['automountServiceAccountToken'] !== false) findings.push(`${name}: mounts a service account token it never uses`);
  for (const namespace of HOST_NAMESPACES) if (pod[namespace] === true) findings.push(`${name}: ${namespace} shares the node's namespace`);
  for (const container of [...(pod['initContainers'] ?? []), ...pod['containers']] as Yaml[]) {
    const own = (container['securityContext'] ?? {}) as Yaml;
    const where = `${name}/${container['name']}`;
    if ((own['runAsNonRoot'] ?? podContext['runAsNonRoot']) !== true) findings.push(`${where}: may run as root`);
    // runAsNonRoot with runAsUser 0 passes every schema, and the kubelet then refuses to start the container.
    if ((own['runAsUser'] ?? podContext['runAsUser']) === 0) findings.push(`${where}: runAsUser 0 is root`);
    if (own['privileged'] === true) findings.push(`${where}: privileged, whatever else it drops`);
    if ((own['seccompProfile'] ?? podContext['seccompProfile'])?.['type'] !== 'RuntimeDefault') findings.push(`${where}: no RuntimeDefault seccomp profile`);
    if (own['allowPrivilegeEscalation'] !== false) findings.push(`${where}: may escalate privileges`);
    if (own['readOnlyRootFilesystem'] !== true) findings.push(`${where}: writable root filesystem`);
    if (!(own['capabilities']?.['drop'] ?? []).includes('ALL')) findings.push(`${where}: keeps Linux capabilities`);
    const added = ((own['capabilities']?.['add'] ?? []) as string[]).filter((capability) => !ALLOWED_CAPABILITIES.includes(capability));
    if (added.length > 0) findings.push(`${where}: capabilities.add ${added.join(', ')} (allowed: ${ALLOWED_CAPABILITIES.join(', ') || 'none'})`);
  }
  return findings;
}

/** Fields of the base kustomization the specs do not see through (patches, generators, components…), and replacements beyond the Job name. */
function kustomizationFindings(kustomization: Yaml): string[] {
  const findings = Object.keys(kustomization)
    .filter((field) => !BASE_KUSTOMIZATION_FIELDS.includes(field))
    .map((field) => `kustomization.yaml: ${field} is refused in the base: the checks read the listed files, not kustomize's output; put it in an overlay that lists docker/k8s as a resource`);
  const replacements = (kustomization['replacements'] ?? []) as Yaml[];
  if (replacements.length !== 1) findings.push(`kustomization.yaml: ${replacements.length} replacements; only the one that names the migration Job is checked`);
  return findings;
}

/** A URL with a user name or password in it; false for anything that is not a URL. */
function hasUserinfo(value: string): boolean {
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

/** Credentials in plain configuration: a key named like one, a key of the Secret, or a URL with userinfo. */
function credentialFindings(where: string, entries: Record<string, unknown>): string[] {
  return Object.entries(entries).flatMap(([key, value]) => {
    if (CREDENTIAL_KEY.test(key) || SECRET_KEYS.includes(key)) return [`${where}: ${key} belongs in the Secret modulith-secrets`];
    return hasUserinfo(String(value)) ? [`${where}: ${key} is a URL with credentials; it belongs in the Secret modulith-secrets`] : [];
  });
}

/** Credentials in every ConfigMap and in the literal env values of every container. */
function plainCredentialFindings(resource: Yaml): string[] {
  const name = `${resource['kind']}/${resource['metadata']['name']}`;
  if (resource['kind'] === 'ConfigMap') return credentialFindings(`${name} data`, resource['data'] ?? {});
  if (!WORKLOAD_KINDS.includes(resource['kind'])) return [];
  const pod = podSpecOf(resource);
  return ([...(pod['initContainers'] ?? []), ...pod['containers']] as Yaml[]).flatMap((container) => {
    const literals = ((container['env'] ?? []) as Yaml[]).filter((variable) => 'value' in variable).map((variable) => [variable['name'], variable['value']]);
    return credentialFindings(`${name}/${container['name']} env`, Object.fromEntries(literals));
  });
}

/** Compose services that run privileged, add capabilities or share a host namespace. */
function composeFindings(compose: Yaml): string[] {
  return Object.entries(compose['services'] as Record<string, Yaml>).flatMap(([name, service]) => {
    const where = `compose.yml services.${name}`;
    const findings: string[] = [];
    if (service['privileged'] === true) findings.push(`${where}: privileged`);
    const added = ((service['cap_add'] ?? []) as string[]).filter((capability) => !ALLOWED_CAPABILITIES.includes(capability));
    if (added.length > 0) findings.push(`${where}: cap_add ${added.join(', ')} (allowed: ${ALLOWED_CAPABILITIES.join(', ') || 'none'})`);
    for (const field of ['network_mode', 'pid', 'ipc', 'uts', 'userns_mode']) {
      if (service[field] === 'host') findings.push(`${where}: ${field}: host shares the host's namespace`);
    }
    return findings;
  });
}

/** The deployment files as the checks below read them. */
interface DeploymentFiles {
  kustomization: Yaml;
  resources: Yaml[];
  compose: Yaml;
}

/** Everything above that is wrong in the deployment files, empty when nothing is. */
function deploymentFindings({ kustomization, resources, compose }: DeploymentFiles): string[] {
  return [
    ...kustomizationFindings(kustomization),
    ...resources.filter((resource) => WORKLOAD_KINDS.includes(resource['kind'])).flatMap(securityFindings),
    ...resources.flatMap(plainCredentialFindings),
    ...composeFindings(compose),
  ];
}

function budgetFindings(resources: Yaml[]): string[] {
  const budgets = resources.filter((resource) => resource['kind'] === 'PodDisruptionBudget');
  const covers = (budget: Yaml, workload: Yaml): boolean =>
    Object.entries(budget['spec']['selector']['matchLabels'] as Record<string, string>).every(([key, value]) => workload['spec']['template']['metadata']['labels'][key] === value);
  const findings: string[] = [];
  for (const workload of resources.filter((resource) => ['Deployment', 'StatefulSet'].includes(resource['kind']))) {
    const replicas = (workload['spec']['replicas'] as number | undefined) ?? 1;
    const budget = budgets.find((candidate) => covers(candidate, workload));
    if (replicas > 1 && !budget) findings.push(`${workload['metadata']['name']}: ${replicas} replicas and no PodDisruptionBudget`);
    // A budget that forbids evicting a single replica blocks every node drain.
    if (budget && (budget['spec']['minAvailable'] ?? 0) >= replicas) findings.push(`${workload['metadata']['name']}: its budget blocks node drains`);
    if (budget && budget['spec']['maxUnavailable'] === 0) findings.push(`${workload['metadata']['name']}: its budget blocks node drains`);
  }
  return findings;
}

describe('docker/k8s hardening', () => {
  const kustomization = readKustomization();
  const resources = readK8sResources(kustomization);
  const workloads = resources.filter((resource) => WORKLOAD_KINDS.includes(resource['kind']));

  it('runs every container as non-root, without privilege escalation or capabilities, on a read-only root, under RuntimeDefault seccomp', () => {
    expect(workloads.map((workload) => workload['metadata']['name']).sort()).toEqual(['analytics', 'core', 'modulith-migrate', 'notifications', 'redis']);
    expect(workloads.flatMap(securityFindings)).toEqual([]);
  });

  it('finds a container that drops its hardening (the check can fail)', () => {
    const weakened = structuredClone(workloads[0]);
    delete podSpecOf(weakened)['containers'][0]['securityContext']['readOnlyRootFilesystem'];
    podSpecOf(weakened)['securityContext']['seccompProfile'] = { type: 'Unconfined' };
    expect(securityFindings(weakened)).toEqual([expect.stringMatching(/seccomp/), expect.stringMatching(/writable root filesystem/)]);
  });

  describe('finds each mistake a reviewer planted in the shipped files (the checks can fail)', () => {
    const shipped: DeploymentFiles = { kustomization, resources, compose: readCompose() };
    const workload = (files: DeploymentFiles, name: string): Yaml => files.resources.find((resource) => WORKLOAD_KINDS.includes(resource['kind']) && resource['metadata']['name'] === name) as Yaml;
    const container = (files: DeploymentFiles, name: string): Yaml => podSpecOf(workload(files, name))['containers'][0];
    const configMapOf = (files: DeploymentFiles): Yaml => files.resources.find((resource) => resource['kind'] === 'ConfigMap') as Yaml;
    const removeSecurityContext = '- op: remove\n  path: /spec/template/spec/containers/0/securityContext';
    const planted: Array<[string, (files: DeploymentFiles) => void, string[]]> = [
      ['capabilities added beside drop ALL', (files) => (container(files, 'core')['securityContext']['capabilities']['add'] = ['SYS_ADMIN', 'NET_ADMIN']), ['Deployment/core/api: capabilities.add SYS_ADMIN, NET_ADMIN (allowed: none)']],
      [
        'host namespaces on a pod',
        (files) => Object.assign(podSpecOf(workload(files, 'redis')), { hostNetwork: true, hostPID: true, hostIPC: true }),
        ['StatefulSet/redis: hostNetwork shares the node\'s namespace', 'StatefulSet/redis: hostPID shares the node\'s namespace', 'StatefulSet/redis: hostIPC shares the node\'s namespace'],
      ],
      ['a patch that removes a securityContext', (files) => (files.kustomization['patches'] = [{ target: { kind: 'Deployment', name: 'core' }, patch: removeSecurityContext }]), [expect.stringMatching(/^kustomization.yaml: patches is refused in the base: .* overlay/)]],
      ['a strategic-merge patch', (files) => (files.kustomization['patchesStrategicMerge'] = ['no-security.yaml']), [expect.stringMatching(/^kustomization.yaml: patchesStrategicMerge is refused/)]],
      ['a JSON 6902 patch', (files) => (files.kustomization['patchesJson6902'] = [{ target: { kind: 'Deployment', name: 'core' }, path: 'no-security.yaml' }]), [expect.stringMatching(/^kustomization.yaml: patchesJson6902 is refused/)]],
      ['a second replacement', (files) => files.kustomization['replacements'].push({ source: { kind: 'ConfigMap', name: 'modulith-config' } }), ['kustomization.yaml: 2 replacements; only the one that names the migration Job is checked']],
      ['DATABASE_URL with a password in the ConfigMap', (files) => (configMapOf(files)['data']['DATABASE_URL'] = 'postgres://modulith:hunter2@db:5432/modulith'), ['ConfigMap/modulith-config data: DATABASE_URL belongs in the Secret modulith-secrets']],
      ['a key named like a credential in the ConfigMap', (files) => (configMapOf(files)['data']['SMTP_PASSWORD'] = 'hunter2'), ['ConfigMap/modulith-config data: SMTP_PASSWORD belongs in the Secret modulith-secrets']],
      ['a URL with credentials in the ConfigMap', (files) => (configMapOf(files)['data']['REDIS_URL'] = 'redis://default:hunter2@redis:6379'), ['ConfigMap/modulith-config data: REDIS_URL is a URL with credentials; it belongs in the Secret modulith-secrets']],
      ['a token as a literal env value', (files) => container(files, 'analytics')['env'].push({ name: 'ADMIN_TOKEN', value: 'hunter2' }), ['Deployment/analytics/api env: ADMIN_TOKEN belongs in the Secret modulith-secrets']],
      ['runAsUser 0 beside runAsNonRoot', (files) => (podSpecOf(workload(files, 'core'))['securityContext']['runAsUser'] = 0), ['Deployment/core/api: runAsUser 0 is root']],
      ['privileged beside allowPrivilegeEscalation false', (files) => (container(files, 'notifications')['securityContext']['privileged'] = true), ['Deployment/notifications/api: privileged, whatever else it drops']],
      [
        'Compose: privileged, cap_add and host namespaces',
        (files) => Object.assign(files.compose['services']['redis'], { privileged: true, cap_add: ['NET_ADMIN'], network_mode: 'host', pid: 'host' }),
        [
          'compose.yml services.redis: privileged',
          'compose.yml services.redis: cap_add NET_ADMIN (allowed: none)',
          "compose.yml services.redis: network_mode: host shares the host's namespace",
          "compose.yml services.redis: pid: host shares the host's namespace",
        ],
      ],
    ];

    it('finds nothing in the shipped files', () => {
      expect(deploymentFindings(shipped)).toEqual([]);
    });

    // Only what the mistake adds, so a real mistake in the files fails the test above, not every row.
    it.each(planted)('%s', (_mistake, plant, findings) => {
      const files = structuredClone(shipped);
      plant(files);
      const before = deploymentFindings(shipped);
      expect(deploymentFindings(files).filter((finding) => !before.includes(finding))).toEqual(findings);
    });
  });

  it('gives every multi-replica workload a PodDisruptionBudget that still lets nodes drain', () => {
    expect(budgetFindings(resources)).toEqual([]);
    const withoutBudgets = resources.filter((resource) => resource['kind'] !== 'PodDisruptionBudget');
    expect(budgetFindings(withoutBudgets)).toEqual(['analytics: 2 replicas and no PodDisruptionBudget', 'notifications: 2 replicas and no PodDisruptionBudget']);
  });

  it('deploys no Secret: the operator creates modulith-secrets (docker/k8s/secrets.env.example)', () => {
    expect(resources.filter((resource) => resource['kind'] === 'Secret')).toEqual([]);
    expect(kustomization['secretGenerator']).toBeUndefined();
  });

  it('names the migration Job after the image tag, so a new tag makes a new Job instead of patching an immutable template', () => {
    const [image] = kustomization['images'] as Yaml[];
    const [replacement] = kustomization['replacements'] as Yaml[];
    expect(image).toMatchObject({ name: 'modulith/api', newTag: expect.any(String) });
    // kustomize runs the images transformer before replacements: the source holds the new tag.
    expect(replacement['source']).toEqual({
      kind: 'Job',
      name: 'modulith-migrate',
      fieldPath: 'spec.template.spec.containers.[name=migrate].image',
      options: { delimiter: ':', index: 1 },
    });
    expect(replacement['targets']).toEqual([{ select: { kind: 'Job', name: 'modulith-migrate' }, fieldPaths: ['metadata.name'], options: { delimiter: '-', index: 2 } }]);
    expect(image['newTag']).toMatch(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/);
    expect(String(image['newTag']).length).toBeLessThanOrEqual(MAX_TAG_LENGTH);

    const job = resources.find((resource) => resource['kind'] === 'Job') as Yaml;
    expect(job['metadata']['name']).toBe('modulith-migrate');
    expect(podSpecOf(job)['containers'].map((container: Yaml) => container['name'])).toEqual(['migrate']);
    expect(job['spec']['ttlSecondsAfterFinished']).toBeGreaterThan(0);
  });
});

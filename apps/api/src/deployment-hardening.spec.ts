import { podSpecOf, readK8sResources, readKustomization, type Yaml } from './testing/deployment-manifests';

// What an operator relies on when applying docker/k8s, beyond schema validity: pods that run
// hardened, budgets for voluntary disruptions, no placeholder Secret, and a migration Job that a
// second `kubectl apply -k` with a new image does not trip over.

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job'];
/** Longest image tag that keeps `modulith-migrate-<tag>` a valid 63-character label value (the Job's pods carry it as job-name). */
const MAX_TAG_LENGTH = 63 - 'modulith-migrate-'.length;

/** What is wrong with one pod template's security settings, empty when nothing is. */
function securityFindings(workload: Yaml): string[] {
  const name = `${workload['kind']}/${workload['metadata']['name']}`;
  const pod = podSpecOf(workload);
  const podContext = (pod['securityContext'] ?? {}) as Yaml;
  const findings: string[] = [];
  if (pod['automountServiceAccountToken'] !== false) findings.push(`${name}: mounts a service account token it never uses`);
  for (const container of [...(pod['initContainers'] ?? []), ...pod['containers']] as Yaml[]) {
    const own = (container['securityContext'] ?? {}) as Yaml;
    const where = `${name}/${container['name']}`;
    if ((own['runAsNonRoot'] ?? podContext['runAsNonRoot']) !== true) findings.push(`${where}: may run as root`);
    if ((own['seccompProfile'] ?? podContext['seccompProfile'])?.['type'] !== 'RuntimeDefault') findings.push(`${where}: no RuntimeDefault seccomp profile`);
    if (own['allowPrivilegeEscalation'] !== false) findings.push(`${where}: may escalate privileges`);
    if (own['readOnlyRootFilesystem'] !== true) findings.push(`${where}: writable root filesystem`);
    if (!(own['capabilities']?.['drop'] ?? []).includes('ALL')) findings.push(`${where}: keeps Linux capabilities`);
  }
  return findings;
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

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { DOCKER_DIR, readCompose, readK8sResources, type Yaml } from './testing/deployment-manifests';

// Real schemas, not hand-written expectations: the Kubernetes OpenAPI schemas (through
// kubernetes-models) and the Compose Specification's JSON schema (vendored, see
// docker/schemas/README.md). No cluster or Docker engine runs here, so this is as far as CI goes.

/** The model of every kind the manifests use; a new kind must be added here to be validated. */
const MODELS: Record<string, new (data: Yaml) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** The schema's complaints about one resource, empty when it is valid. */
function kubernetesSchemaErrors(resource: Yaml): string[] {
  const model = MODELS[`${resource['apiVersion']}/${resource['kind']}`];
  if (!model) return [`no schema for ${resource['apiVersion']} ${resource['kind']}: add its kubernetes-models class to MODELS`];
  try {
    new model(resource).validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

function compileComposeSchema(): ValidateFunction {
  // strict: false because the schema carries annotations ajv does not know (`deprecated`).
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  // The schema names draft-07 by its https address; ajv ships the same meta-schema under http.
  const draft07 = JSON.parse(readFileSync(require.resolve('ajv/dist/refs/json-schema-draft-07.json'), 'utf8')) as Yaml;
  ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
  return ajv.compile(JSON.parse(readFileSync(path.join(DOCKER_DIR, 'schemas/compose-spec.json'), 'utf8')) as Yaml);
}

let composeSchema: ValidateFunction | undefined;

function composeSchemaErrors(compose: Yaml): ErrorObject[] {
  composeSchema ??= compileComposeSchema();
  return composeSchema(compose) ? [] : (composeSchema.errors ?? []);
}

describe('docker/k8s against the Kubernetes OpenAPI schemas', () => {
  const resources = readK8sResources();

  it('validates every resource the kustomization lists', () => {
    const errors = resources.map((resource) => ({ resource: `${resource['kind']}/${resource['metadata']?.['name']}`, errors: kubernetesSchemaErrors(resource) }));
    expect(errors.filter((entry) => entry.errors.length > 0)).toEqual([]);
  });

  it('rejects a resource the API server would reject (the check can fail)', () => {
    const deployment = structuredClone(resources.find((resource) => resource['kind'] === 'Deployment')) as Yaml;
    deployment['spec']['replicas'] = 'two';
    deployment['spec']['template']['spec']['containers'][0]['resources']['limits']['memory'] = '1 Gi';
    expect(kubernetesSchemaErrors(deployment).join()).toMatch(/replicas must be integer/);
  });
});

describe('docker/compose.yml against the Compose Specification schema', () => {
  it('is a valid Compose file', () => {
    expect(composeSchemaErrors(readCompose())).toEqual([]);
  });

  it('rejects an unknown key or a wrong type (the check can fail)', () => {
    const compose = readCompose();
    compose['services']['redis']['restart_policy'] = 'always';
    compose['services']['migrate']['depends_on']['postgres']['condition'] = 'service_ready';
    const complaints = composeSchemaErrors(compose).map((error) => `${error.instancePath} ${error.message}`);
    expect(complaints).toEqual(expect.arrayContaining(['/services/redis must NOT have additional properties']));
    expect(complaints.join()).toMatch(/depends_on\/postgres\/condition must be equal to one of the allowed values/);
  });

  it('says that it needs Compose v2', () => {
    expect(readFileSync(path.join(DOCKER_DIR, 'compose.yml'), 'utf8')).toMatch(/^# Needs Docker Compose v2 /m);
  });
});

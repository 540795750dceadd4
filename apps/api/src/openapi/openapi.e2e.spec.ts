import type { OpenAPIObject } from '@nestjs/swagger';
import { startApp, type RunningApp } from '../testing/app.fixture';
import { lintOpenApi } from './redocly-lint';
import { registeredRoutes } from './route-inventory';

// Bound on one run of the linter's CLI (a separate Node process).
const LINT_TIMEOUT_MS = Number(process.env['OPENAPI_LINT_TIMEOUT_MS'] ?? 60_000);
const START_TIMEOUT_MS = Number(process.env['E2E_START_TIMEOUT_MS'] ?? 60_000);

type Operation = { responses?: Record<string, { description?: string; content?: Record<string, { schema?: { $ref?: string } }> }>; operationId?: string; summary?: string; tags?: string[] };
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;

/** Every `$ref` in the document, wherever it sits. */
function refs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => refs(item, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refs(value, found);
    }
  }
  return found;
}

describe('the OpenAPI document (whole app)', () => {
  let running: RunningApp;
  let document: OpenAPIObject;

  beforeAll(async () => {
    running = await startApp({ ADMIN_TOKEN: 'openapi-admin-token' });
    const response = await fetch(`${running.baseUrl}/docs-json`);
    expect(response.status).toBe(200);
    document = (await response.json()) as OpenAPIObject;
  }, START_TIMEOUT_MS);

  afterAll(() => running?.close(), START_TIMEOUT_MS);

  it('is a well-formed OpenAPI 3 document: info, operations with responses, unique operation ids, resolvable refs', () => {
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(document.paths)) {
      expect(path).toMatch(/^\/[^\s]*$/);
      const operations = METHODS.map((method) => (item as Record<string, Operation>)[method]).filter(Boolean);
      expect(operations.length).toBeGreaterThan(0);
      for (const operation of operations) {
        expect(operation.summary).toEqual(expect.any(String));
        expect(operation.tags?.length).toBeGreaterThan(0);
        expect(Object.keys(operation.responses ?? {}).length).toBeGreaterThan(0);
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          expect(status).toMatch(/^([1-5]\d\d|default)$/);
          expect(response.description).toEqual(expect.any(String));
        }
        const id = String(operation.operationId);
        expect(ids.has(id)).toBe(false);
        ids.add(id);
      }
      // Every path parameter is declared.
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        for (const operation of operations) {
          const parameters = [...((item as { parameters?: { name: string; in: string }[] }).parameters ?? []), ...(((operation as { parameters?: { name: string; in: string }[] }).parameters) ?? [])];
          expect(parameters).toContainEqual(expect.objectContaining({ name, in: 'path' }));
        }
      }
    }
    const schemas = document.components?.schemas ?? {};
    for (const ref of refs(document)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(schemas[ref.slice('#/components/schemas/'.length)]).toBeDefined();
    }
  });

  it('documents each route the app registers, with its DTOs', () => {
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, item]) =>
        METHODS.filter((method) => (item as Record<string, unknown>)[method]).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const served = registeredRoutes(running.app)
      // HEAD mirrors GET; the Swagger UI's own pages and assets are not part of the API.
      .filter((route) => route.method !== 'HEAD' && route.method !== 'OPTIONS' && !/^\/docs([-/]|$)/.test(route.url))
      .map((route) => `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(served.length).toBeGreaterThanOrEqual(15);
    expect(served.filter((route) => !documented.has(route))).toEqual([]);
    expect(served).toEqual(expect.arrayContaining(['POST /transfers', 'GET /metrics', 'GET /ready', 'GET /ops/state', 'GET /']));

    const json = (path: string, method: string, status: string) =>
      (document.paths[path] as Record<string, Operation>)[method].responses?.[status]?.content?.['application/json']?.schema;
    expect(json('/transfers/batch', 'post', '201')).toEqual({ $ref: '#/components/schemas/IngestResultDto' });
    expect(json('/transfers/batch', 'post', '400')).toEqual({ $ref: '#/components/schemas/HttpError' });
    expect(json('/accounts/{account}/balances', 'get', '200')).toEqual({ $ref: '#/components/schemas/AccountBalancesDto' });
    expect(json('/analytics/hourly', 'get', '200')).toEqual({ $ref: '#/components/schemas/HourlyVolumeDto' });
    expect(json('/ops/state', 'get', '200')).toEqual({ $ref: '#/components/schemas/OpsOverviewDto' });
    expect((document.paths['/transfers/batch'] as Record<string, { requestBody?: unknown }>).post.requestBody).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TransferBatchDto' } } },
    });
    expect((document.paths['/admin/dead-letters'] as Record<string, { security?: unknown }>).get.security).toEqual([{ admin: [] }]);
  });

  it('passes `@redocly/cli lint` with the recommended rules (redocly.yaml): no error, no warning', async () => {
    const problems = await lintOpenApi(document, LINT_TIMEOUT_MS);
    expect(problems.map((problem) => `${problem.severity} ${problem.rule} at ${problem.pointer}: ${problem.message}`)).toEqual([]);
  }, LINT_TIMEOUT_MS + 5_000);

  it('the linter does fail: a planted empty `servers` and an operation without `security` are reported', async () => {
    const broken = structuredClone(document);
    broken.servers = [];
    delete (broken.paths['/health'] as { get: { security?: unknown } }).get.security;
    const problems = await lintOpenApi(broken, LINT_TIMEOUT_MS);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: 'error', rule: 'no-empty-servers' }),
        expect.objectContaining({ severity: 'error', rule: 'security-defined', pointer: '#/paths/~1health/get' }),
      ]),
    );
  }, LINT_TIMEOUT_MS + 5_000);

  it('says what the app does: optional parameters, every status, strict bodies, public and admin security', () => {
    const operation = (path: string, method: string) => (document.paths[path] as Record<string, Operation & { parameters?: { name: string; required?: boolean }[]; security?: unknown }>)[method];
    const required = (path: string, method: string) =>
      Object.fromEntries((operation(path, method).parameters ?? []).map((parameter) => [parameter.name, parameter.required ?? false]));
    expect(required('/admin/dead-letters', 'get')).toEqual({ subscriber: false, limit: false, before: false });
    expect(required('/admin/outbox/redrive', 'post')).toEqual({ since: true, until: false });
    expect(required('/analytics/hourly', 'get')).toEqual({ currency: false, from: false, to: false, limit: false, cursor: false });

    const ingest = operation('/transfers/batch', 'post').responses ?? {};
    expect(Object.keys(ingest)).toEqual(expect.arrayContaining(['201', '400', '408', '409', '413', '415', '429', '500', '503']));
    expect(Object.keys((ingest['429'] as { headers?: object }).headers ?? {})).toContain('retry-after');
    expect(Object.keys(operation('/health', 'get').responses ?? {})).toEqual(expect.arrayContaining(['200', '408', '500', '503']));
    expect(operation('/health', 'get').security).toEqual([]);
    // Every operation with a path parameter documents the router's 414; one without has none.
    for (const [path, method] of [['/accounts/{account}/balances', 'get'], ['/accounts/{account}/transfers', 'get'], ['/accounts/{account}/entries', 'get'], ['/accounts/{account}/statements/{currency}', 'get'], ['/transfers/{id}', 'get'], ['/admin/dead-letters/{id}/replay', 'post']]) {
      expect(Object.keys(operation(path, method).responses ?? {})).toContain('414');
    }
    expect(Object.keys(operation('/health', 'get').responses ?? {})).not.toContain('414');
    // Cursors say their range; ids their length, so the 400 for 129-256 characters is documented.
    const parameter = (path: string, name: string) =>
      (operation(path, 'get') as { parameters?: { name: string; schema?: { pattern?: string; maxLength?: number } }[] }).parameters?.find((p) => p.name === name)?.schema;
    for (const list of ['transfers', 'entries', 'statements/{currency}']) {
      expect(parameter(`/accounts/{account}/${list}`, 'cursor')).toMatchObject({ type: 'string', pattern: '^[1-9][0-9]{0,18}$' });
      expect(parameter(`/accounts/{account}/${list}`, 'account')).toMatchObject({ maxLength: 128 });
    }
    expect(parameter('/transfers/{id}', 'id')).toMatchObject({ maxLength: 128 });
    expect(operation('/admin/pipeline', 'get').security).toEqual([{ admin: [] }]);
    expect(document.components?.securitySchemes?.['admin']).toEqual({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' });
    expect(document.servers?.length).toBeGreaterThan(0);

    const schemas = document.components?.schemas as Record<string, { additionalProperties?: boolean; properties?: Record<string, { enum?: string[]; oneOf?: object[] }> }>;
    expect(schemas['TransferBatchDto'].additionalProperties).toBe(false);
    expect(schemas['TransferDto'].additionalProperties).toBe(false);
    expect(schemas['TransferDto'].properties?.['currency'].enum).toContain('EUR');
    expect(schemas['TransferDto'].properties?.['amount'].oneOf).toEqual([
      expect.objectContaining({ type: 'string', maxLength: 19 }),
      expect.objectContaining({ type: 'integer', maximum: Number.MAX_SAFE_INTEGER }),
    ]);
  });

  it('serves the Swagger UI at /docs', async () => {
    const response = await fetch(`${running.baseUrl}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('swagger-ui');
    // Swagger UI styles inline; only its pages get that allowance.
    expect(response.headers.get('content-security-policy')).toContain("style-src 'self' 'unsafe-inline'");
    expect((await fetch(`${running.baseUrl}/docs-json`)).headers.get('content-security-policy') ?? '').not.toContain('unsafe-inline');
  });
});

import type { OpenAPIObject } from '@nestjs/swagger';
import { startApp, type RunningApp } from '../testing/app.fixture';
import { registeredRoutes } from './route-inventory';

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
  });

  afterAll(() => running?.close());

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

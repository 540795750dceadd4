import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { CORRELATION_HEADER, isRateLimited, type RateLimitOptions } from '@modulith/http';
import { documentAdminEndpoints } from './admin.openapi';
import { documentCommonResponses } from './common-responses.openapi';

export const DOCS_PATH = 'docs';

/** What the document needs from the app's HTTP options. */
export interface OpenApiOptions {
  /** The write rate limit's scope: its operations document 429 and the limit headers. */
  rateLimit: Pick<RateLimitOptions, 'methods' | 'pathPrefixes'>;
}

/** Builds the OpenAPI 3 document from the controllers and their DTOs. */
export function createOpenApiDocument(app: INestApplication, options: OpenApiOptions): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Modulith — transfer ledger indexer')
    .setDescription(
      'The HTTP API of the modules running in this process, and the operator endpoints. Every response carries ' +
        `\`${CORRELATION_HEADER}\` (the caller's, when it sends a plain token, or a new one): it follows the request through ` +
        'every module and event, and into every log line. Balance changes are also pushed over WebSocket at `/ws` ' +
        '(`{"action":"subscribe","accounts":[...]}`): the answer carries the accounts\' current balances, each with its `entrySeq`, ' +
        'and the changes after them follow with no gap and no overlap. `/admin/*` needs `Authorization: Bearer <ADMIN_TOKEN>`. ' +
        'Lists are paged: a page holds at most `limit` items and `nextCursor` (`nextBefore` for dead letters) is null only on the last.',
    )
    .setVersion('0.1.0')
    .setLicense('MIT', 'https://opensource.org/license/mit')
    // Relative: the document describes whichever host serves it.
    .addServer('/', 'The server that serves this document')
    // A plain bearer token (ADMIN_TOKEN), not a JWT.
    .addSecurity('admin', { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' })
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}` });
  documentAdminEndpoints(document);
  documentPublicEndpoints(document);
  documentErrors(document);
  documentCommonResponses(document, (method, path) => isRateLimited(options.rateLimit, method, path));
  closeRequestBodies(document);
  return document;
}

/** Operations outside `/admin` need no credentials: they say so rather than leave it open. */
function documentPublicEndpoints(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.get, item.put, item.post, item.delete, item.patch]) {
      if (operation && !operation.security) operation.security = [];
    }
  }
}

/**
 * Every request body is read with `readObject` (@modulith/http), which refuses fields it does
 * not know: each schema a body refers to, directly or through an array, allows no others.
 */
function closeRequestBodies(document: OpenAPIObject): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, Record<string, unknown>>;
  const close = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const { $ref, items, properties } = node as { $ref?: string; items?: unknown; properties?: Record<string, unknown> };
    const target = $ref ? schemas[$ref.replace('#/components/schemas/', '')] : (node as Record<string, unknown>);
    if (!target || target['additionalProperties'] === false) return;
    if (target['type'] === 'object' || target['properties']) target['additionalProperties'] = false;
    close(items ?? target['items']);
    for (const property of Object.values(properties ?? (target['properties'] as Record<string, unknown>) ?? {})) close(property);
  };
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.put, item.post, item.patch]) {
      const body = operation?.requestBody;
      if (body && 'content' in body) Object.values(body.content).forEach((media) => close(media.schema));
    }
  }
}

const HTTP_ERROR = {
  type: 'object',
  description: 'Every error response: the status, its name, and a message naming the field at fault',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer', example: 400 },
    error: { type: 'string', example: 'Bad Request' },
    message: { type: 'string', example: 'transfers[3].amount: must be a positive integer' },
    code: { type: 'string', example: 'VALIDATION_FAILED' },
    field: { type: 'string', example: 'transfers[3].amount' },
  },
} as const;

/** Gives every 4xx and 5xx response without a body schema the one error format (`HttpErrorBody`). */
function documentErrors(document: OpenAPIObject): void {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, HttpError: { ...HTTP_ERROR, required: [...HTTP_ERROR.required] } } };
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.get, item.put, item.post, item.delete, item.patch]) {
      for (const [status, response] of Object.entries(operation?.responses ?? {})) {
        if (Number(status) >= 400 && response && 'description' in response && !response.content) {
          response.content = { 'application/json': { schema: { $ref: '#/components/schemas/HttpError' } } };
        }
      }
    }
  }
}

// Swagger UI styles its elements inline; everything else stays as strict as the app's policy.
const DOCS_UI_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const DOCS_UI = new RegExp(`^/${DOCS_PATH}(/|$)`);

/** Swagger UI at `/docs`, the document at `/docs-json`. Call before `app.init()`. */
export function setupOpenApi(app: INestApplication, options: OpenApiOptions): void {
  SwaggerModule.setup(DOCS_PATH, app, () => createOpenApiDocument(app, options), {
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    yamlDocumentUrl: `${DOCS_PATH}-yaml`,
    customSiteTitle: 'Modulith API',
    customCss: '.swagger-ui .topbar { display: none }',
  });
  // Runs after the security headers hook (registered with the adapter), so it wins for these pages.
  (app as NestFastifyApplication)
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', (request, reply, payload, done) => {
      if (DOCS_UI.test(request.url.split('?')[0])) reply.header('content-security-policy', DOCS_UI_POLICY);
      done(null, payload);
    });
}

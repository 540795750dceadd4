import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { CORRELATION_HEADER } from '@modulith/http';
import { documentAdminEndpoints } from './admin.openapi';

export const DOCS_PATH = 'docs';

/** Builds the OpenAPI 3 document from the controllers and their DTOs. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Modulith — transfer ledger indexer')
    .setDescription(
      'The HTTP API of the modules running in this process, and the operator endpoints. Every response carries ' +
        `\`${CORRELATION_HEADER}\` (the caller's, when it sends a plain token, or a new one): it follows the request through ` +
        'every module and event, and into every log line. Balance changes are also pushed over WebSocket at `/ws` ' +
        '(`{"action":"subscribe","accounts":[...]}`). `/admin/*` needs `Authorization: Bearer <ADMIN_TOKEN>`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin')
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}` });
  documentAdminEndpoints(document);
  documentErrors(document);
  return document;
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
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup(DOCS_PATH, app, () => createOpenApiDocument(app), {
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

import addFormats from 'ajv-formats';
import type { OpenAPIObject } from '@nestjs/swagger';
import { OpenAPIBackend, type Operation } from 'openapi-backend';

/** One request the test sent and what came back. */
export interface Exchange {
  method: string;
  /** Path and query, as sent: `/analytics/hourly?limit=2`. */
  url: string;
  status: number;
  /** Response headers, lower-case names. */
  headers: Record<string, string>;
  body: string;
}

type ResponseDoc = { content?: Record<string, unknown>; headers?: Record<string, unknown> };

/**
 * Object schemas that do not say otherwise are closed for the check: a field the app sends but
 * the document does not name is a mismatch too. A schema that really is open says
 * `additionalProperties` itself.
 */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (!node || typeof node !== 'object') return node;
  const copy = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === 'example' ? value : closed(value)]));
  if (copy['type'] === 'object' && copy['properties'] && !('additionalProperties' in copy)) copy['additionalProperties'] = false;
  return copy;
}

/**
 * Checks real responses against the app's OpenAPI document with openapi-backend (Ajv under the
 * hood, formats included): the request must match a documented operation, the status must be
 * documented for it, the media type must be one it lists, and the JSON body and the documented
 * headers must fit their schemas. openapi-backend alone passes a status or media type that has
 * no schema; those two checks are ours.
 */
export class ResponseConformance {
  private readonly api: OpenAPIBackend;

  constructor(document: OpenAPIObject) {
    this.api = new OpenAPIBackend({
      definition: closed(structuredClone(document)) as never,
      strict: true,
      validate: true,
      quick: false,
      customizeAjv: (ajv) => {
        addFormats(ajv);
        return ajv;
      },
    });
  }

  async init(): Promise<this> {
    await this.api.init();
    return this;
  }

  /** Every way `exchange` departs from the document; empty when it matches. */
  problems(exchange: Exchange): string[] {
    const [path, search = ''] = exchange.url.split('?');
    const operation = this.api.matchOperation({ method: exchange.method.toLowerCase(), path, query: search, headers: {} });
    const at = `${exchange.method} ${exchange.url} → ${exchange.status}`;
    if (!operation) return [`${at}: no documented operation`];
    const documented = (operation.responses ?? {}) as Record<string, ResponseDoc>;
    const response = documented[String(exchange.status)] ?? documented['default'];
    if (!response) return [`${at}: status not documented for ${operation.operationId} (documents ${Object.keys(documented).join(', ')})`];
    const problems: string[] = [];
    const mediaType = (exchange.headers['content-type'] ?? '').split(';')[0].trim();
    if (exchange.body !== '' && !response.content?.[mediaType]) {
      problems.push(`${at}: content-type "${mediaType}" not documented (documents ${Object.keys(response.content ?? {}).join(', ') || 'no body'})`);
    }
    if (mediaType === 'application/json' && response.content?.[mediaType]) {
      const result = this.api.validateResponse(JSON.parse(exchange.body), operation as Operation, exchange.status);
      for (const error of result.errors ?? []) problems.push(`${at}: body${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`);
    }
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const value = exchange.headers[name];
      const schema = (header as { schema?: { type?: string } }).schema;
      // Header values are text; an integer header must be written as one.
      if (value !== undefined && schema?.type === 'integer' && !/^-?\d+$/.test(value)) problems.push(`${at}: header ${name} "${value}" is not an integer`);
      if (value === undefined && (header as { required?: boolean }).required) problems.push(`${at}: header ${name} missing`);
    }
    return problems;
  }

  /** The operation id a request matches, or undefined. */
  operationOf(method: string, url: string): string | undefined {
    const [path, search = ''] = url.split('?');
    return this.api.matchOperation({ method: method.toLowerCase(), path, query: search, headers: {} })?.operationId;
  }

  /** Every operation id in the document. */
  operationIds(): string[] {
    return this.api.getOperations().map((operation) => operation.operationId as string);
  }
}

import { isAdminRequest } from './admin-token.hook';

/** Which of the security headers depend on the deployment. */
export interface SecurityHeadersOptions {
  /** `strict-transport-security` max-age; 0 leaves the header out (only send it when served over TLS). */
  hstsMaxAgeSeconds: number;
  /** The `content-security-policy` value. */
  contentSecurityPolicy: string;
}

/**
 * Everything comes from this origin and nothing runs inline: an HTML console whose scripts
 * and styles are files under the same origin works; injected markup can neither run scripts,
 * load objects, post forms elsewhere nor be framed. `connect-src 'self'` also allows the
 * console's same-origin `fetch` and WebSocket.
 */
export const DEFAULT_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The headers every response carries. */
export function securityHeaders(options: SecurityHeadersOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'content-security-policy': options.contentSecurityPolicy,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-frame-options': 'DENY',
    'x-permitted-cross-domain-policies': 'none',
  };
  if (options.hstsMaxAgeSeconds > 0) headers['strict-transport-security'] = `max-age=${options.hstsMaxAgeSeconds}; includeSubDomains`;
  return headers;
}

interface RequestLike {
  url: string;
  routeOptions?: { url?: string };
}
interface ReplyLike {
  header(name: string, value: string): unknown;
}

/** Fastify `onSend` hook: sets the headers on every response; admin answers are never cached. */
export function securityHeadersHook(options: SecurityHeadersOptions) {
  const headers = Object.entries(securityHeaders(options));
  return (request: RequestLike, reply: ReplyLike, payload: unknown, done: (error: null, payload: unknown) => void): void => {
    for (const [name, value] of headers) reply.header(name, value);
    if (isAdminRequest(request)) reply.header('cache-control', 'no-store');
    done(null, payload);
  };
}

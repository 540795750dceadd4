import { createHash, timingSafeEqual } from 'node:crypto';

interface RequestLike extends AdminRequestLike {
  headers: Record<string, string | string[] | undefined>;
}
interface AdminRequestLike {
  url: string;
  /** The matched route's pattern (Fastify sets it before `onRequest`); absent when nothing matched. */
  routeOptions?: { url?: string };
}
interface ReplyLike {
  code(status: number): ReplyLike;
  send(payload: unknown): unknown;
}

export const ADMIN_PREFIX = '/admin';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

const isAdminPath = (path: string): boolean => path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`);

function decodedPath(url: string): string {
  const path = url.split('?')[0];
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * True when the request is for an admin route: the route it matched is one (so `/%61dmin/...`,
 * which the router decodes to `/admin/...`, counts too) or its decoded path is.
 */
export function isAdminRequest(request: AdminRequestLike): boolean {
  const route = request.routeOptions?.url;
  return (route !== undefined && isAdminPath(route)) || isAdminPath(decodedPath(request.url));
}

/** The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive), or ''. */
function bearerToken(header: string | string[] | undefined): string {
  if (typeof header !== 'string') return '';
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : '';
}

/**
 * Guards every `/admin` route (see `isAdminRequest`): off (404) when no token is configured,
 * 401 without the right bearer token. Tokens are compared as fixed-length digests in constant
 * time, so neither length nor content leaks.
 */
export function adminTokenHook(token: string | undefined) {
  const expected = token ? digest(token) : undefined;
  return (request: RequestLike, reply: ReplyLike, done: () => void): void => {
    if (!isAdminRequest(request)) return done();
    if (!expected) {
      reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'admin endpoints are off: set ADMIN_TOKEN to enable them' });
      return;
    }
    const given = bearerToken(request.headers['authorization']);
    // Compared even when empty, so a missing token costs the same as a wrong one.
    const matches = timingSafeEqual(digest(given), expected);
    if (!given || !matches) {
      reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'authorization: a valid bearer token is required' });
      return;
    }
    done();
  };
}

import { createHash, timingSafeEqual } from 'node:crypto';

interface RequestLike {
  url: string;
  headers: Record<string, string | string[] | undefined>;
}
interface ReplyLike {
  code(status: number): ReplyLike;
  send(payload: unknown): unknown;
}

export const ADMIN_PREFIX = '/admin';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Guards every `/admin` route: off (404) when no token is configured, 401 without the right
 * bearer token. Tokens are compared as fixed-length digests in constant time.
 */
export function adminTokenHook(token: string | undefined) {
  const expected = token ? digest(token) : undefined;
  return (request: RequestLike, reply: ReplyLike, done: () => void): void => {
    const path = request.url.split('?')[0];
    if (path !== ADMIN_PREFIX && !path.startsWith(`${ADMIN_PREFIX}/`)) return done();
    if (!expected) {
      reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'admin endpoints are off: set ADMIN_TOKEN to enable them' });
      return;
    }
    const header = request.headers['authorization'];
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!given || !timingSafeEqual(digest(given), expected)) {
      reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'authorization: a valid bearer token is required' });
      return;
    }
    done();
  };
}


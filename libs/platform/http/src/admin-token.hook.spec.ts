import { timingSafeEqual } from 'node:crypto';
import { adminTokenHook } from './admin-token.hook';

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, timingSafeEqual: jest.fn(actual.timingSafeEqual) };
});

type Outcome = { status: number; message?: string } | 'passed';

function call(hook: ReturnType<typeof adminTokenHook>, url: string, authorization?: string | string[], route?: string): Outcome {
  let outcome: Outcome = 'passed';
  const reply = {
    code: (status: number) => ({ ...reply, send: (body: { message: string }) => (outcome = { status, message: body.message }) }),
    send: () => undefined,
  };
  hook({ url, headers: { authorization }, routeOptions: { url: route } }, reply, () => undefined);
  return outcome;
}

describe('adminTokenHook', () => {
  const hook = adminTokenHook('s3cret-token');

  it('given no token configured, when anything under /admin is asked, then it is off (404)', () => {
    const off = adminTokenHook(undefined);
    expect(call(off, '/admin/pipeline', 'Bearer anything')).toMatchObject({ status: 404, message: expect.stringContaining('ADMIN_TOKEN') });
    expect(call(off, '/admin')).toMatchObject({ status: 404 });
    expect(call(off, '/transfers')).toBe('passed');
  });

  it('lets the right bearer token through, in any case of the scheme', () => {
    expect(call(hook, '/admin/pipeline', 'Bearer s3cret-token')).toBe('passed');
    expect(call(hook, '/admin/dead-letters?limit=1', 'bearer s3cret-token')).toBe('passed');
  });

  it.each([
    ['no header', undefined],
    ['empty', ''],
    ['another scheme', 'Basic s3cret-token'],
    ['no scheme', 's3cret-token'],
    ['a prefix of the token', 'Bearer s3cret'],
    ['the token and more', 'Bearer s3cret-token-and-more'],
    ['two tokens', 'Bearer s3cret-token s3cret-token'],
    ['the header twice', ['Bearer s3cret-token', 'Bearer s3cret-token']],
    ['case changed', 'Bearer S3CRET-TOKEN'],
  ])('refuses %s with 401 naming the authorization header', (_label, header) => {
    expect(call(hook, '/admin/pipeline', header as string)).toEqual({ status: 401, message: 'authorization: a valid bearer token is required' });
  });

  it('guards the admin routes however the path is spelled', () => {
    expect(call(hook, '/%61dmin/pipeline')).toMatchObject({ status: 401 });
    expect(call(hook, '/anything', undefined, '/admin/dead-letters/:id/replay')).toMatchObject({ status: 401 });
    expect(call(hook, '/%zz/admin')).toBe('passed');
    expect(call(hook, '/administrator')).toBe('passed');
  });

  it('compares in constant time, always on fixed-length digests, even without a token', () => {
    const spy = jest.mocked(timingSafeEqual);
    spy.mockClear();
    call(hook, '/admin/pipeline', 'Bearer x');
    call(hook, '/admin/pipeline', `Bearer ${'y'.repeat(10_000)}`);
    call(hook, '/admin/pipeline');
    call(hook, '/admin/pipeline', 'Bearer s3cret-token');
    expect(spy).toHaveBeenCalledTimes(4);
    for (const [given, expected] of spy.mock.calls) {
      expect((given as Buffer).length).toBe(32);
      expect((expected as Buffer).length).toBe(32);
    }
  });
});

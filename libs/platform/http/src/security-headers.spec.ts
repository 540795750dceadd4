import { DEFAULT_CONTENT_SECURITY_POLICY, securityHeaders, securityHeadersHook } from './security-headers';

describe('security headers', () => {
  it('sends the usual set, and HSTS only when configured (behind TLS)', () => {
    const plain = securityHeaders({ hstsMaxAgeSeconds: 0, contentSecurityPolicy: DEFAULT_CONTENT_SECURITY_POLICY });
    expect(plain).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    });
    expect(plain['strict-transport-security']).toBeUndefined();
    const tls = securityHeaders({ hstsMaxAgeSeconds: 31_536_000, contentSecurityPolicy: DEFAULT_CONTENT_SECURITY_POLICY });
    expect(tls['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it("lets a console load its own scripts, styles and WebSocket, and nothing inline or foreign", () => {
    const directives = Object.fromEntries(DEFAULT_CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['style-src']).toEqual(["'self'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(DEFAULT_CONTENT_SECURITY_POLICY).not.toContain('unsafe');
  });

  it('marks admin answers as not cacheable', () => {
    const hook = securityHeadersHook({ hstsMaxAgeSeconds: 0, contentSecurityPolicy: "default-src 'self'" });
    const sent = (url: string) => {
      const headers: Record<string, string> = {};
      hook({ url }, { header: (name: string, value: string) => (headers[name] = value) }, 'body', () => undefined);
      return headers;
    };
    expect(sent('/admin/pipeline')['cache-control']).toBe('no-store');
    expect(sent('/%61dmin/pipeline?x=1')['cache-control']).toBe('no-store');
    expect(sent('/transfers')['cache-control']).toBeUndefined();
    expect(sent('/transfers')['content-security-policy']).toBe("default-src 'self'");
  });
});

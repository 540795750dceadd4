import { secretScrubber } from './secret-scrubber';

describe('secretScrubber', () => {
  it('masks the password of connection URLs, whatever the scheme', () => {
    const scrub = secretScrubber();
    expect(scrub('DATABASE_URL=postgres://app:s3cr%40t@db:5432/x failed')).toBe('DATABASE_URL=postgres://app:[redacted]@db:5432/x failed');
    expect(scrub('redis://:only-password@cache:6379/0')).toBe('redis://:[redacted]@cache:6379/0');
    expect(scrub('postgres://app@db/x and http://example.com/a:b@c')).toBe('postgres://app@db/x and http://example.com/a:b@c');
  });

  it('masks each given secret wherever it appears, ignoring unset and too-short ones', () => {
    const scrub = secretScrubber(['token-123456', undefined, 'abc']);
    expect(scrub('Bearer token-123456 and again token-123456')).toBe('Bearer [redacted] and again [redacted]');
    expect(scrub('abc stays')).toBe('abc stays');
  });
});

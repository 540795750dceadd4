import { freePort } from './free-port';
import { createTestDatabase } from './test-database';

describe('createTestDatabase without a server', () => {
  it('fails saying how to start PostgreSQL and which variable points elsewhere, with the password hidden', async () => {
    const port = await freePort();
    const failure = await createTestDatabase('nowhere', { serverUrl: `postgres://postgres:secret@127.0.0.1:${port}/test` }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).toContain(`Integration tests need a real PostgreSQL at postgres://postgres:***@127.0.0.1:${port}/test`);
    expect(failure?.message).toContain('pg_ctlcluster');
    expect(failure?.message).toContain('TEST_DATABASE_URL');
    expect(failure?.message).not.toContain('secret');
  });
});

import { freePort } from './free-port';

describe('createTestDatabase without a server', () => {
  it('fails saying how to start PostgreSQL and which variable points elsewhere', async () => {
    const port = await freePort();
    const saved = process.env['TEST_DATABASE_URL'];
    process.env['TEST_DATABASE_URL'] = `postgres://postgres:secret@127.0.0.1:${port}/test`;
    try {
      // TEST_SERVER_URL is read when the module loads: load a copy of it that sees the unused port.
      let failure: Error | undefined;
      await jest.isolateModulesAsync(async () => {
        const isolated = await import('./test-database');
        failure = await isolated.createTestDatabase('nowhere').then(() => undefined, (error: Error) => error);
      });
      expect(failure?.message).toContain(`Integration tests need a real PostgreSQL at postgres://postgres:***@127.0.0.1:${port}/test`);
      expect(failure?.message).toContain('pg_ctlcluster');
      expect(failure?.message).toContain('TEST_DATABASE_URL');
    } finally {
      if (saved === undefined) delete process.env['TEST_DATABASE_URL'];
      else process.env['TEST_DATABASE_URL'] = saved;
    }
  });
});

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { appConfigFromEnv } from '../app.config';
import { createApp } from '../bootstrap';

/** The whole app on a fresh database, listening on a free loopback port. */
export interface RunningApp {
  app: NestFastifyApplication;
  baseUrl: string;
  database: TestDatabase;
  close(): Promise<void>;
}

export async function startApp(env: NodeJS.ProcessEnv = {}): Promise<RunningApp> {
  const database = await createTestDatabase('api');
  const config = { ...appConfigFromEnv({ ...env, LOG_LEVEL: 'warn' }), database: databaseTestConfig(database.url) };
  const app = await createApp(config, false);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    database,
    baseUrl: `http://127.0.0.1:${address.port}`,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

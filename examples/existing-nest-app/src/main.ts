import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/shop';
  const app = await NestFactory.create(AppModule.forRoot({ databaseUrl }));
  app.enableShutdownHooks();
  await app.listen(Number(process.env['PORT'] ?? 3000));
}

void bootstrap();

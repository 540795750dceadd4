import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export interface RegisteredRoute {
  method: string;
  url: string;
}

const inventories = new WeakMap<INestApplication, RegisteredRoute[]>();

/** Starts recording every route Fastify registers; call before `app.init()`. */
export function recordRoutes(app: INestApplication): void {
  const routes: RegisteredRoute[] = [];
  inventories.set(app, routes);
  (app as NestFastifyApplication)
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url });
    });
}

/** Every route the app serves, as Fastify registered it (`/transfers/:id`). */
export function registeredRoutes(app: INestApplication): readonly RegisteredRoute[] {
  return inventories.get(app) ?? [];
}

import { Inject, Injectable, Optional, type CallHandler, type ExecutionContext, type NestInterceptor, type Type } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { PinoLogger } from 'nestjs-pino';
import type { Observable } from 'rxjs';

/** Business module classes by the name `MODULES` uses; controllers are attributed to them. */
export const MODULE_NAMES = Symbol('MODULE_NAMES');

/**
 * Adds `module` (e.g. `"module":"ingestion"`) to every log line of an HTTP request served by a
 * business module's controller, the request's completion line included.
 */
@Injectable()
export class ModuleLogContextInterceptor implements NestInterceptor {
  private byController?: Map<Type, string>;

  constructor(
    private readonly container: ModulesContainer,
    private readonly logger: PinoLogger,
    @Optional() @Inject(MODULE_NAMES) private readonly moduleNames: ReadonlyMap<Type, string> = new Map(),
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const module = this.controllers().get(context.getClass());
    if (module && context.getType() === 'http') {
      try {
        this.logger.assign({ module });
      } catch {
        // outside a logged request (the logging middleware is excluded for this route)
      }
    }
    return next.handle();
  }

  private controllers(): Map<Type, string> {
    if (!this.byController) {
      this.byController = new Map();
      for (const module of this.container.values()) {
        const name = this.moduleNames.get(module.metatype as Type);
        if (!name) continue;
        for (const controller of module.controllers.keys()) this.byController.set(controller as Type, name);
      }
    }
    return this.byController;
  }
}

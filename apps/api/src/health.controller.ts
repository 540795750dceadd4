import { Controller, Get, Inject } from '@nestjs/common';

export const LOADED_MODULES = Symbol('LOADED_MODULES');

/** Liveness: the process is up and serving HTTP. */
@Controller()
export class HealthController {
  constructor(@Inject(LOADED_MODULES) private readonly modules: string[]) {}

  @Get('health')
  health(): { status: 'ok'; modules: string[] } {
    return { status: 'ok', modules: this.modules };
  }
}

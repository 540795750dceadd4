import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { ReadinessIndicators } from '@modulith/observability';
import { LivenessDto, ReadinessDto } from './observability/health.dto';

export const LOADED_MODULES = Symbol('LOADED_MODULES');

interface StatusReply {
  status(code: number): unknown;
}

/**
 * Liveness (`/health`): the process is up and serving HTTP; it checks no dependency, so an
 * outage of the database never gets healthy processes restarted. Readiness (`/ready`): this
 * process can do its work now; 503 with the failing checks when it cannot.
 */
@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(LOADED_MODULES) private readonly modules: string[],
    private readonly checks: HealthCheckService,
    private readonly readiness: ReadinessIndicators,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness, and the modules this process runs' })
  @ApiOkResponse({ type: LivenessDto })
  health(): { status: 'ok'; modules: string[] } {
    return { status: 'ok', modules: this.modules };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: database reachable, migrations applied, broker reachable (when used), relay running (when enabled)',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'Not ready: `error` names the failing checks' })
  async ready(@Res({ passthrough: true }) reply: StatusReply): Promise<HealthCheckResult> {
    try {
      return await this.checks.check(this.readiness.checks());
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }
}

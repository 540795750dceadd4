import { ApiProperty } from '@nestjs/swagger';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';

  @ApiProperty({ type: [String], example: ['ingestion', 'ledger', 'analytics', 'notifications'], description: 'Modules running in this process' })
  modules!: string[];
}

const CHECKS = {
  type: 'object' as const,
  additionalProperties: {
    type: 'object',
    properties: { status: { type: 'string' as const, enum: ['up', 'down'] } },
    additionalProperties: true,
  },
  example: { database: { status: 'up', responseTimeMs: 1 }, migrations: { status: 'up' }, relay: { status: 'up', state: 'running' } },
};

export class ReadinessDto {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'] })
  status!: string;

  @ApiProperty({ ...CHECKS, description: 'Checks that passed' })
  info!: Record<string, unknown>;

  @ApiProperty({ ...CHECKS, description: 'Checks that failed, with why' })
  error!: Record<string, unknown>;

  @ApiProperty({ ...CHECKS, description: 'Every check' })
  details!: Record<string, unknown>;
}

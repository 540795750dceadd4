import { ApiProperty } from '@nestjs/swagger';
import type { HourlyBucket, HourlyVolume } from '@modulith/analytics/contracts';

// Swagger shapes of the analytics contracts' read model.

export class HourlyBucketDto implements HourlyBucket {
  @ApiProperty({ format: 'date-time', example: '2026-01-31T12:00:00.000Z', description: 'Start of the UTC hour' }) hour!: string;
  @ApiProperty({ pattern: '^[A-Z]{3}$', example: 'EUR' }) currency!: string;
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Transfers in the hour' }) count!: number;
  @ApiProperty({ pattern: '^[0-9]+$', example: '125000', description: 'Sum of amounts, as a decimal string (may exceed 64 bits)' }) volume!: string;
  @ApiProperty({ pattern: '^[0-9]+$', example: '99000', description: 'The largest single amount' }) largest!: string;
}

export class HourlyVolumeDto implements HourlyVolume {
  @ApiProperty({ type: [HourlyBucketDto], description: 'At most `limit` buckets, in (hour, currency) order' }) buckets!: HourlyBucketDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass back as `cursor` for the next page; null on the last' }) nextCursor!: string | null;
}

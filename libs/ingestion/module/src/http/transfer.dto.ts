import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CURRENCY_CODES, TRANSFER_LIMITS, type IngestResult, type Transfer, type TransferPage, type TransferView } from '@modulith/ingestion/contracts';
import { decimalPatternUpTo } from './decimal-pattern';

// Swagger shapes of the contracts' transfer types; validation stays in transfer.rules.ts. Request
// bodies allow no other fields (readObject refuses them): the app's document says so for every body.

const ID = { pattern: '^[A-Za-z0-9._:-]{1,128}$', minLength: 1, maxLength: 128 } as const;

export class TransferDto implements Omit<Transfer, 'amount'> {
  @ApiProperty({ ...ID, example: 't-1', description: 'Idempotency key: a repeat with identical content is accepted once' })
  id!: string;

  @ApiProperty({ ...ID, example: 'alice', description: 'Debited account' })
  from!: string;

  @ApiProperty({ ...ID, example: 'bob', description: 'Credited account; differs from `from`' })
  to!: string;

  @ApiProperty({
    oneOf: [
      { type: 'string', pattern: decimalPatternUpTo(TRANSFER_LIMITS.maxAmount), maxLength: 19 },
      { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    ],
    example: '1250',
    description: 'Positive integer in minor units up to 2^63-1: a decimal string, or a safe integer. Never a float.',
  })
  amount!: string | number;

  @ApiProperty({ enum: [...CURRENCY_CODES].sort(), example: 'EUR', description: 'ISO 4217 code' })
  currency!: string;

  @ApiProperty({ format: 'date-time', example: '2026-01-31T12:00:00Z', description: 'ISO 8601 with a time zone' })
  occurredAt!: string;
}

export class TransferViewDto implements TransferView {
  @ApiProperty({ example: 't-1' }) id!: string;
  @ApiProperty({ example: 'alice' }) from!: string;
  @ApiProperty({ example: 'bob' }) to!: string;
  @ApiProperty({ pattern: '^[1-9][0-9]*$', example: '1250', description: 'Minor units, as a decimal string' }) amount!: string;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-31T12:00:00.000Z', description: 'UTC, millisecond precision' }) occurredAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When ingestion stored it' }) ingestedAt!: string;
}

export class TransferBatchDto {
  @ApiProperty({ type: [TransferDto], minItems: 1, maxItems: 10_000, description: 'All or nothing' })
  transfers!: TransferDto[];
}

export class IngestResultDto implements IngestResult {
  @ApiProperty({ description: 'New transfers stored' }) accepted!: number;
  @ApiProperty({ description: 'Identical repeats, left unchanged' }) replayed!: number;
}

export class TransferPageDto implements TransferPage {
  @ApiProperty({ type: [TransferViewDto] }) items!: TransferViewDto[];
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Pass back as `cursor` for the next page; null on the last' })
  nextCursor!: string | null;
}

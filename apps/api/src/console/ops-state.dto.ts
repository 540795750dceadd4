import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ProcessInfoDto {
  @ApiProperty({ example: 'api-7f9c:4242', description: 'hostname:pid' })
  id!: string;
  @ApiProperty() hostname!: string;
  @ApiProperty() pid!: number;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty() uptimeSeconds!: number;
  @ApiProperty({ type: [String], example: ['ingestion', 'ledger'] }) modules!: string[];
  @ApiProperty({ example: 'in-process' }) transport!: string;
  @ApiProperty({ enum: ['running', 'stopped', 'disabled', 'unknown'] }) relay!: string;
  @ApiProperty() rssBytes!: number;
  @ApiProperty() heapUsedBytes!: number;
}

export class FlowEdgeDto {
  @ApiProperty({ example: 'ingestion', description: 'Publishing module' }) source!: string;
  @ApiProperty({ example: 'ingestion.transfer-ingested' }) eventType!: string;
  @ApiProperty({ example: 'ledger', description: 'Consuming module' }) module!: string;
  @ApiProperty({ example: 'ledger.apply-transfers' }) subscriber!: string;
  @ApiProperty({ enum: ['durable', 'best-effort'] }) delivery!: string;
  @ApiProperty({ description: 'Events handled by this process since it started' }) handled!: number;
  @ApiProperty() failures!: number;
  @ApiProperty() retries!: number;
  @ApiProperty() deadLettered!: number;
  @ApiProperty({ description: 'Best-effort events dropped on overflow' }) dropped!: number;
  @ApiProperty({ description: 'Mean duration of a handler call, in ms' }) meanHandlerMs!: number;
}

export class PublishedDto {
  @ApiProperty({ example: 'ingestion' }) module!: string;
  @ApiProperty({ example: 'ingestion.transfer-ingested' }) eventType!: string;
  @ApiProperty({ description: 'Events this process relayed to the transport since it started' }) events!: number;
}

export class RelayDto {
  @ApiProperty() batches!: number;
  @ApiProperty() events!: number;
  @ApiProperty() lastBatchSize!: number;
  @ApiProperty() largestBatchSize!: number;
  @ApiProperty({ description: 'Batches rolled back because the database or broker was away (infrastructure retries)' }) failures!: number;
}

export class BacklogDto {
  @ApiProperty() outboxPending!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Age of the oldest undelivered event, null when the outbox is empty' })
  oldestPendingAgeMs!: number | null;
  @ApiProperty() retriesPending!: number;
  @ApiProperty() deadLetters!: number;
  @ApiProperty({ description: 'Of `retriesPending`: events waiting only for an earlier event of their key' }) heldEvents!: number;
  @ApiProperty({ description: 'Subscriber and key pairs held back by a parked or dead-lettered event' }) heldKeys!: number;
  @ApiProperty({ description: 'In-process transport: relayed events some durable subscriber has not read yet' }) logPending!: number;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Redis Streams only: published, not yet handled by every group; null when the broker cannot be asked' })
  transportPending?: number | null;
}

export class NotificationsDto {
  @ApiProperty() connections!: number;
  @ApiProperty() subscriptions!: number;
  @ApiProperty() queued!: number;
  @ApiProperty() dropped!: number;
  @ApiProperty() delivered!: number;
}

/** One process as the ops console shows it. */
export class OpsStateDto {
  @ApiProperty({ format: 'date-time' }) sampledAt!: string;
  @ApiProperty({ type: ProcessInfoDto }) process!: ProcessInfoDto;
  @ApiProperty({ type: [FlowEdgeDto], description: 'Who consumes which event, from whom, in this process' }) flow!: FlowEdgeDto[];
  @ApiProperty({ type: [PublishedDto] }) published!: PublishedDto[];
  @ApiProperty({ type: RelayDto }) relay!: RelayDto;
  @ApiProperty({ type: BacklogDto, nullable: true, description: 'Shared by every process on the database; null if it cannot be read' })
  backlog!: BacklogDto | null;
  @ApiProperty({ type: NotificationsDto, nullable: true, description: 'null when the notifications module does not run here' })
  notifications!: NotificationsDto | null;
}

export class PeerStateDto {
  @ApiProperty({ example: 'http://ledger:3000' }) url!: string;
  @ApiPropertyOptional({ type: OpsStateDto }) state?: OpsStateDto;
  @ApiPropertyOptional({ description: 'Why the peer could not be read' }) error?: string;
}

export class OpsOverviewDto extends OpsStateDto {
  @ApiPropertyOptional({ type: [PeerStateDto], description: 'The processes named by OPS_PEERS, read by this one; absent with `peers=false`' })
  peers?: PeerStateDto[];
}

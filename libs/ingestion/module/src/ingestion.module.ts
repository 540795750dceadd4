import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DatabaseModule } from '@modulith/database';
import { FindAccountTransfersHandler } from './find-account-transfers/find-account-transfers.handler';
import { GetTransferHandler } from './get-transfer/get-transfer.handler';
import { TransfersController } from './http/transfers.controller';
import { IngestTransfersHandler } from './ingest-transfers/ingest-transfers.handler';
import { ingestionSchema } from './ingestion.schema';
import { TransferRepository } from './transfer.repository';

/**
 * Accepts transfers over HTTP, validates and stores them in schema `ingestion`. Other modules
 * reach it only through `@modulith/ingestion/contracts`.
 */
@Module({
  imports: [CqrsModule, DatabaseModule.forModule(ingestionSchema)],
  controllers: [TransfersController],
  providers: [TransferRepository, IngestTransfersHandler, GetTransferHandler, FindAccountTransfersHandler],
})
export class IngestionModule {}

import { Module } from '@nestjs/common';
import { MessagingModule } from '@modulith/messaging';
import { FindAccountTransfersHandler } from './find-account-transfers/find-account-transfers.handler';
import { GetIngestionTotalsHandler } from './get-ingestion-totals/get-ingestion-totals.handler';
import { GetTransferHandler } from './get-transfer/get-transfer.handler';
import { TransfersController } from './http/transfers.controller';
import { IngestTransfersHandler } from './ingest-transfers/ingest-transfers.handler';
import { ingestionDefinition } from './ingestion.definition';
import { TransferRepository } from './transfer.repository';

/**
 * Accepts transfers over HTTP, validates and stores them in schema `ingestion`. Other modules
 * reach it only through `@modulith/ingestion/contracts`.
 */
@Module({
  imports: [MessagingModule.forModule(ingestionDefinition)],
  controllers: [TransfersController],
  providers: [TransferRepository, IngestTransfersHandler, GetTransferHandler, FindAccountTransfersHandler, GetIngestionTotalsHandler],
})
export class IngestionModule {}

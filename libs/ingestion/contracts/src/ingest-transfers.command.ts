import { Command } from '@nestjs/cqrs';
import { PublicCommand } from '@modulith/core';
import type { IngestResult, Transfer } from './transfer';

/** Store transfers that are new; repeats with the same content are no-ops, conflicting ones fail the whole batch. */
@PublicCommand({ module: 'ingestion', type: 'ingestion.ingest-transfers' })
export class IngestTransfersCommand extends Command<IngestResult> {
  constructor(readonly transfers: readonly Transfer[]) {
    super();
  }
}

import { Command } from '@nestjs/cqrs';
import type { IngestResult, Transfer } from './transfer';

/** Store transfers that are new; repeats with the same content are no-ops, conflicting ones fail the whole batch. */
export class IngestTransfersCommand extends Command<IngestResult> {
  constructor(readonly transfers: readonly Transfer[]) {
    super();
  }
}

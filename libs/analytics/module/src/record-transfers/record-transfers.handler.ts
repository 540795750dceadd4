import { Injectable } from '@nestjs/common';
import { TransferIngested } from '@modulith/ingestion/contracts';
import { OnIntegrationEvent, type BatchDeliveryContext } from '@modulith/messaging';
import { AnalyticsRepository } from '../analytics.repository';

/** Counts ingested transfers into hourly buckets per currency, by when they occurred. */
@Injectable()
export class RecordTransfersHandler {
  constructor(private readonly analytics: AnalyticsRepository) {}

  // One attempt at a time: unordered transfers all land on the same few hourly buckets (hour and currency), so a second
  // attempt beside the first would only wait on its row locks.
  @OnIntegrationEvent(TransferIngested, { batch: 500, name: 'analytics.record-transfers', concurrency: 1 })
  async record(events: TransferIngested[], { manager }: BatchDeliveryContext): Promise<void> {
    await this.analytics.record(manager, events.map((event) => event.payload));
  }
}

import { Module } from '@nestjs/common';
import { MessagingModule } from '@modulith/messaging';
import { analyticsDefinition } from './analytics.definition';
import { AnalyticsRepository } from './analytics.repository';
import { GetAnalyticsTotalsHandler } from './get-analytics-totals/get-analytics-totals.handler';
import { GetHourlyVolumeHandler } from './get-hourly-volume/get-hourly-volume.handler';
import { AnalyticsController } from './http/analytics.controller';
import { RecordTransfersHandler } from './record-transfers/record-transfers.handler';

/** Hourly volume and count per currency, fed by `TransferIngested`. */
@Module({
  imports: [MessagingModule.forModule(analyticsDefinition)],
  controllers: [AnalyticsController],
  providers: [AnalyticsRepository, RecordTransfersHandler, GetHourlyVolumeHandler, GetAnalyticsTotalsHandler],
})
export class AnalyticsModule {}

import { Module } from '@nestjs/common';
import { DatabaseModule } from '@modulith/database';
import { MessagingModule } from '@modulith/messaging';
import { analyticsSchema } from './analytics.schema';
import { AnalyticsRepository } from './analytics.repository';
import { GetAnalyticsTotalsHandler } from './get-analytics-totals/get-analytics-totals.handler';
import { GetHourlyVolumeHandler } from './get-hourly-volume/get-hourly-volume.handler';
import { AnalyticsController } from './http/analytics.controller';
import { RecordTransfersHandler } from './record-transfers/record-transfers.handler';

/** Hourly volume and count per currency, fed by `TransferIngested`. */
@Module({
  imports: [DatabaseModule.forModule(analyticsSchema), MessagingModule.forModule({ module: 'analytics', schema: 'analytics' })],
  controllers: [AnalyticsController],
  providers: [AnalyticsRepository, RecordTransfersHandler, GetHourlyVolumeHandler, GetAnalyticsTotalsHandler],
})
export class AnalyticsModule {}

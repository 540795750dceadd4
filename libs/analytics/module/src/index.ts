/**
 * @modulith/analytics — hourly volume and count per currency. Owns schema `analytics`.
 * Consumes `TransferIngested` in batches; publishes nothing.
 */
export { AnalyticsModule } from './analytics.module';

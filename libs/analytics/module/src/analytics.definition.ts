import { defineModule } from '@modulith/messaging';
import { CreateHourly0001 } from './migrations/0001-create-hourly.migration';

/** The analytics module, declared once; its inbox comes with its durable subscribers. */
export const analyticsDefinition = defineModule({
  name: 'analytics',
  schema: 'analytics',
  migrations: [CreateHourly0001],
});

import { defineModule } from '@modulith/database';
import { CreateMessagingTables0001 } from './migrations/0001-create-messaging-tables.migration';
import { CreateOutboxDelivered0002 } from './migrations/0002-create-outbox-delivered.migration';
import { EnvelopesAsJson0003 } from './migrations/0003-envelopes-as-json.migration';
import { CreateInstances0004 } from './migrations/0004-create-instances.migration';
import { OrderedDelivery0005 } from './migrations/0005-ordered-delivery.migration';
import { TraceContext0006 } from './migrations/0006-trace-context.migration';
import { CallReceipts0007 } from './migrations/0007-call-receipts.migration';
import { EventLogRows0008 } from './migrations/0008-event-log-rows.migration';

/** The schema the messaging platform owns: outbox (and its delivered rows, when kept), retries, dead letters, remote command receipts. */
export const MESSAGING_SCHEMA = 'messaging';

export const messagingSchema = defineModule({
  name: 'messaging',
  schema: MESSAGING_SCHEMA,
  migrations: [CreateMessagingTables0001, CreateOutboxDelivered0002, EnvelopesAsJson0003, CreateInstances0004, OrderedDelivery0005, TraceContext0006, CallReceipts0007, EventLogRows0008],
});

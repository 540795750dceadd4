import { Injectable } from '@nestjs/common';
import { SchemaMigrationContributor, type MigrationClass, type ModuleSchema } from '@modulith/database';
import { SubscriberRegistry } from '../subscribers/subscriber-registry';
import { inboxMigration } from './inbox.migration';

/**
 * Gives every module with durable `@OnIntegrationEvent` subscribers its inbox, so no module lists
 * `inboxMigration` itself. Decided when `Database` resolves the schemas to migrate: after every
 * provider exists (discovery sees the subscribers), before any migration runs. The inbox keeps its
 * one name, `messaging-inbox-0001`, in each module's history: a database where a module listed it
 * by hand has it applied already. A module whose subscribers are all best effort gets none.
 */
@Injectable()
export class InboxMigrations extends SchemaMigrationContributor {
  constructor(private readonly registry: SubscriberRegistry) {
    super();
  }

  migrationsFor(schema: ModuleSchema): MigrationClass[] {
    const durable = this.registry.definitions.some((definition) => definition.mode !== 'best-effort' && definition.schema === schema.schema);
    return durable ? [inboxMigration(schema.schema)] : [];
  }
}

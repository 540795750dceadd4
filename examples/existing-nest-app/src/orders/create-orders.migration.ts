import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Runs inside the `orders` schema; recorded in `orders.schema_migrations`. */
export class CreateOrders0001 implements MigrationInterface {
  readonly name = '0001-create-orders';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE orders (id text PRIMARY KEY, total int NOT NULL)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE orders');
  }
}

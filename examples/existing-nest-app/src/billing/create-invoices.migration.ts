import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateInvoices0001 implements MigrationInterface {
  readonly name = '0001-create-invoices';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE invoices (id serial PRIMARY KEY, order_id text NOT NULL, amount int NOT NULL)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE invoices');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateHourly0001 implements MigrationInterface {
  name = '0001-create-hourly';

  async up(runner: QueryRunner): Promise<void> {
    // volume is numeric: the sum of many 64-bit amounts can leave the bigint range.
    await runner.query(`
      CREATE TABLE analytics.hourly (
        hour     timestamptz NOT NULL,
        currency char(3)     NOT NULL,
        count    bigint      NOT NULL,
        volume   numeric(40, 0) NOT NULL,
        largest  bigint      NOT NULL,
        PRIMARY KEY (hour, currency)
      )`);
    await runner.query('CREATE INDEX hourly_currency_idx ON analytics.hourly (currency, hour)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE analytics.hourly');
  }
}

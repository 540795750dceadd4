import { DataSource, type EntityManager } from 'typeorm';

/** Anything that can run SQL: a transaction's manager or the data source itself. */
export type Queryable = EntityManager | DataSource;

/**
 * Runs one statement and returns its rows, whatever the command. (TypeORM's plain `query`
 * returns `[rows, count]` for UPDATE and DELETE but `rows` for SELECT and INSERT.)
 */
export async function queryRows<T>(on: Queryable, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const runner = on instanceof DataSource ? undefined : on.queryRunner;
  if (runner) return (await runner.query(sql, parameters, true)).records as T[];
  const dataSource = on instanceof DataSource ? on : on.connection;
  const owned = dataSource.createQueryRunner();
  try {
    return (await owned.query(sql, parameters, true)).records as T[];
  } finally {
    await owned.release();
  }
}

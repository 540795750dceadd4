import { sqlOnClient, type SqlClient } from './sql';

describe('sqlOnClient', () => {
  /** A client that records what it was asked and answers with `rows`. */
  const fakeClient = (rows: unknown[]): SqlClient & { asked: unknown[][] } => {
    const asked: unknown[][] = [];
    return { asked, query: async (text, values) => (asked.push([text, values]), { rows }) };
  };

  it('passes the statement and its values through and resolves with the rows', async () => {
    const client = fakeClient([{ n: 1 }]);
    const sql = sqlOnClient(client);

    expect(await sql<{ n: number }>('SELECT $1::int AS n', [1])).toEqual([{ n: 1 }]);
    expect(client.asked).toEqual([['SELECT $1::int AS n', [1]]]);
  });

  it('reads a getter at each statement, so the client may be assigned after the sql is made', async () => {
    let client = fakeClient([{ which: 'first' }]);
    const sql = sqlOnClient(() => client);
    expect(await sql('SELECT 1')).toEqual([{ which: 'first' }]);

    client = fakeClient([{ which: 'second' }]);
    expect(await sql('SELECT 1')).toEqual([{ which: 'second' }]);
  });
});

import { Client } from 'pg';
import { createTestDatabase, terminateBackends, TEST_SERVER_URL, type TestDatabase } from './test-database';

// terminateBackends ends the backends of one database only: test files run side by side on one
// server (CI runs two projects at once), and a kill that reached another database's connections
// failed unrelated tests (an app process that lost its connection while migrating exited).
describe('terminateBackends (real PostgreSQL)', () => {
  let target: TestDatabase;
  let bystander: TestDatabase;
  let admin: Client;
  const clients: Client[] = [];

  /** A connection to `database` named `name`; its loss is expected, so its error events are ignored. */
  const connect = async (database: TestDatabase, name: string): Promise<Client> => {
    const client = new Client({ connectionString: database.url, application_name: name });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  const alive = (client: Client): Promise<boolean> =>
    client.query('SELECT 1').then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    [target, bystander] = await Promise.all([createTestDatabase('terminate_target'), createTestDatabase('terminate_bystander')]);
    admin = new Client({ connectionString: TEST_SERVER_URL });
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
  });

  afterAll(async () => {
    await admin?.end();
    await Promise.all([target?.drop(), bystander?.drop()]);
  });

  it('ends the matching connections of the named database, and no connection of another database', async () => {
    const victim = await connect(target, 'modulith-victim');
    const otherName = await connect(target, 'someone-else');
    const elsewhere = await connect(bystander, 'modulith-victim');

    expect(await terminateBackends(admin, target.name, { applicationName: 'modulith%' })).toEqual({ terminated: 1, inTransaction: 0 });

    expect(await alive(elsewhere)).toBe(true);
    expect(await alive(otherName)).toBe(true);
    expect(await alive(victim)).toBe(false);
  });

  it('with inTransactionOnly, ends only the connections inside a transaction', async () => {
    const busy = await connect(target, 'modulith-busy');
    const idle = await connect(target, 'modulith-idle');
    const busyElsewhere = await connect(bystander, 'modulith-busy');
    await busy.query('BEGIN');
    await busyElsewhere.query('BEGIN');

    expect(await terminateBackends(admin, target.name, { inTransactionOnly: true })).toEqual({ terminated: 1, inTransaction: 1 });

    expect(await alive(idle)).toBe(true);
    expect(await alive(busyElsewhere)).toBe(true);
    expect(await alive(busy)).toBe(false);
  });
});

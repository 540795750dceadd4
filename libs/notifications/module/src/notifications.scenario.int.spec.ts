import { BalanceChanged } from '@modulith/ledger/contracts';
import { Scenario } from '@modulith/messaging/testing';
import { ConnectionRegistry } from './connection-registry';
import { NotificationsModule } from './notifications.module';
import { SubscriberConnection, type SocketLike } from './subscriber-connection';

// Above SCENARIO_TIMEOUT_MS (15 s by default): a wait that runs out fails with the scenario's own
// message (what is pending, and where) rather than Jest's. Booting takes a few seconds too.
jest.setTimeout(60_000);

/** Stands in for a client's WebSocket: keeps the frames the module sends it. */
class RecordingSocket implements SocketLike {
  readonly readyState = 1;
  readonly bufferedAmount = 0;
  readonly frames: Record<string, string>[] = [];

  send(data: string, callback?: (error?: Error) => void): void {
    this.frames.push(JSON.parse(data));
    callback?.();
  }
}

const change = (account: string, entrySeq: number, balance: string) =>
  new BalanceChanged({ account, currency: 'EUR', balance, delta: balance, transferId: `t-${entrySeq}`, entrySeq: String(entrySeq) });

describe('notifications scenarios (module alone with the messaging platform, real PostgreSQL)', () => {
  let scenario: Scenario;
  let registry: ConnectionRegistry;

  /** A client following `accounts`, as the gateway registers one. */
  const client = (...accounts: string[]): RecordingSocket => {
    const socket = new RecordingSocket();
    const connection = new SubscriberConnection(socket, 100, 1_000_000, () => registry.countDrop());
    registry.add(connection);
    for (const account of accounts) registry.follow(connection, account);
    return socket;
  };

  beforeAll(async () => {
    scenario = await Scenario.boot({ modules: [NotificationsModule], name: 'notifications_scenario' });
    registry = scenario.app.get(ConnectionRegistry);
  });

  afterAll(() => scenario?.close());

  it('given a client following an account, when its balance changes, then the client receives the change and others do not', async () => {
    const alice = client('alice');
    const bob = client('bob');

    // Best-effort delivery is outside "settled" (no inbox), so the state is awaited after it.
    const { state } = await scenario.when
      .events([change('alice', 1, '10'), change('carol', 2, '5'), change('alice', 3, '25')])
      .andWaitForStateChange(
        () => alice.frames,
        (frames) => frames.length === 2,
      );

    expect(state.map((frame) => [frame['type'], frame['account'], frame['balance']])).toEqual([
      ['balance-changed', 'alice', '10'],
      ['balance-changed', 'alice', '25'],
    ]);
    expect(bob.frames).toEqual([]);
    expect(registry.stats()).toMatchObject({ connections: 2, delivered: 2, dropped: 0 });
  });
});

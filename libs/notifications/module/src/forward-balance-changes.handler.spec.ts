import { BalanceChanged } from '@modulith/ledger/contracts';
import { ConnectionRegistry } from './connection-registry';
import { ForwardBalanceChangesHandler } from './forward-balance-changes.handler';
import { SubscriberConnection, type SocketLike } from './subscriber-connection';

/** A socket that records frames; `stalled` keeps them all unsent. */
class RecordingSocket implements SocketLike {
  readyState = 1;
  bufferedAmount = 0;
  isPaused = false;
  frames: { account: string; currency: string; entrySeq: string }[] = [];

  constructor(private readonly stalled = false) {}

  send(data: string): void {
    this.frames.push(JSON.parse(data));
    if (this.stalled) this.bufferedAmount += data.length;
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
  }
}

const change = (account: string, entrySeq: number, currency = 'EUR') =>
  new BalanceChanged({ account, currency, balance: String(entrySeq), delta: '1', transferId: `t-${entrySeq}`, entrySeq: String(entrySeq) });

/** A connection following `accounts`, each with an empty snapshot (as for accounts with no balance yet). */
function follower(registry: ConnectionRegistry, accounts: string[], socket = new RecordingSocket(), queueSize = 100, maxBufferedBytes = 1_000_000) {
  const connection = new SubscriberConnection(socket, queueSize, maxBufferedBytes, () => registry.countDrop());
  registry.add(connection);
  for (const account of accounts) {
    registry.follow(connection, account);
    registry.release(connection, account, []);
  }
  return { socket, connection };
}

describe('forwarding balance changes', () => {
  it('given changes in commit order, then each follower gets them at once, in that order, and only for its accounts', () => {
    const registry = new ConnectionRegistry();
    const handler = new ForwardBalanceChangesHandler(registry);
    const { socket } = follower(registry, ['acc-1']);

    handler.forward(change('acc-1', 1));
    expect(socket.frames.map((frame) => frame.entrySeq)).toEqual(['1']); // written before the next change arrives
    handler.forward(change('acc-2', 2));
    handler.forward(change('acc-1', 3, 'USD'));
    handler.forward(change('acc-1', 4));

    expect(socket.frames.map((frame) => [frame.account, frame.currency, frame.entrySeq])).toEqual([
      ['acc-1', 'EUR', '1'],
      ['acc-1', 'USD', '3'],
      ['acc-1', 'EUR', '4'],
    ]);
  });

  it('keeps no reordering buffer: a change is forwarded as it arrives, even after a gap, since order is the platform’s; one the client has already is skipped', () => {
    const registry = new ConnectionRegistry();
    const handler = new ForwardBalanceChangesHandler(registry);
    const { socket, connection } = follower(registry, ['acc-1']);

    handler.forward(change('acc-1', 7));
    handler.forward(change('acc-1', 5)); // older than what the client shows: never sent after 7
    handler.forward(change('acc-1', 7)); // again
    handler.forward(change('acc-1', 5, 'USD')); // another balance: its own sequence

    expect(socket.frames.map((frame) => [frame.currency, frame.entrySeq])).toEqual([
      ['EUR', '7'],
      ['USD', '5'],
    ]);
    expect(connection.queued).toBe(0);
    expect(registry.stats().delivered).toBe(2);
  });

  it('given a follower whose snapshot is being read, then its changes wait, and after the snapshot come only those above it, in order', () => {
    const registry = new ConnectionRegistry();
    const handler = new ForwardBalanceChangesHandler(registry);
    const socket = new RecordingSocket();
    const connection = new SubscriberConnection(socket, 100, 1_000_000, () => registry.countDrop());
    registry.add(connection);
    registry.follow(connection, 'acc-1');

    for (const seq of [3, 4, 5, 6]) handler.forward(change('acc-1', seq));
    handler.forward(change('acc-1', 2, 'USD'));
    expect(socket.frames).toEqual([]);

    registry.release(connection, 'acc-1', [{ account: 'acc-1', currency: 'EUR', balance: '4', entrySeq: '4' }]);
    handler.forward(change('acc-1', 7));

    expect(socket.frames.map((frame) => [frame.currency, frame.entrySeq])).toEqual([
      ['EUR', '5'],
      ['EUR', '6'],
      ['USD', '2'],
      ['EUR', '7'],
    ]);
  });

  it('given a follower that stops reading, then its queue stays bounded, drops are counted, and other followers get everything', () => {
    const registry = new ConnectionRegistry();
    const handler = new ForwardBalanceChangesHandler(registry);
    const stalled = follower(registry, ['acc-1'], new RecordingSocket(true), 10, 1);
    const reader = follower(registry, ['acc-1']);

    for (let seq = 1; seq <= 1000; seq++) handler.forward(change('acc-1', seq));

    expect(stalled.socket.frames).toHaveLength(1); // written until the socket held 1 byte unsent
    expect(stalled.connection.queued).toBe(10);
    expect(registry.stats().dropped).toBe(1000 - 1 - 10);
    expect(reader.socket.frames.map((frame) => Number(frame.entrySeq))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });
});

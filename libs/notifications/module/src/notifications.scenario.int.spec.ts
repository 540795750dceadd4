import { EventEmitter } from 'node:events';
import { Injectable, Module } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { currentCallDeadline } from '@modulith/core';
import { BalanceChanged, GetBalanceQuery, type AccountBalances } from '@modulith/ledger/contracts';
import { defineModule, MessagingModule } from '@modulith/messaging';
import { Scenario } from '@modulith/messaging/testing';
import type { WebSocket } from 'ws';
import { BalanceChangesGateway } from './balance-changes.gateway';
import { ConnectionRegistry } from './connection-registry';
import { NotificationsModule } from './notifications.module';
import type { BalanceSnapshot } from './snapshot-fence';

// Above SCENARIO_TIMEOUT_MS (15 s by default): a wait that runs out fails with the scenario's own
// message (what is pending, and where) rather than Jest's. Booting takes a few seconds too.
jest.setTimeout(60_000);

const SNAPSHOT_TIMEOUT_MS = 1000;
const SNAPSHOT_BUFFER_SIZE = 4;

type Frame = Record<string, unknown> & { type: string };

/** Stands in for a client's WebSocket: the gateway's side of it, keeping the frames sent. */
class RecordingSocket extends EventEmitter {
  readonly readyState = 1;
  readonly bufferedAmount = 0;
  readonly frames: Frame[] = [];

  send(data: string, callback?: (error?: Error) => void): void {
    this.frames.push(JSON.parse(data));
    callback?.();
  }

  /** What the client sends. */
  command(action: 'subscribe' | 'unsubscribe', ...accounts: string[]): void {
    this.emit('message', Buffer.from(JSON.stringify({ action, accounts })));
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  changes(account: string): string[] {
    return this.ofType('balance-changed')
      .filter((frame) => frame['account'] === account)
      .map((frame) => `${frame['currency']}:${frame['entrySeq']}`);
  }
}

/**
 * The ledger's side of `GetBalanceQuery`, scripted: each read answers the next of `answers[account]`
 * (the last one repeats), once `gate` (if any) opens; `reads` counts them.
 */
@Injectable()
class LedgerStandIn {
  answers = new Map<string, BalanceSnapshot[][]>();
  reads = new Map<string, number>();
  /** The call deadline in force for each read (what a remote call would carry). */
  deadlines: (number | undefined)[] = [];
  gate?: Promise<void>;
  private openGate: () => void = () => undefined;

  close(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  open(): void {
    this.openGate();
    this.gate = undefined;
  }

  async read(account: string): Promise<AccountBalances> {
    this.reads.set(account, (this.reads.get(account) ?? 0) + 1);
    this.deadlines.push(currentCallDeadline());
    await this.gate;
    const answers = this.answers.get(account) ?? [[]];
    const answer = answers.length > 1 ? (answers.shift() as BalanceSnapshot[]) : answers[0];
    return { account, balances: answer.map(({ currency, balance, entrySeq }) => ({ currency, balance, entrySeq })) };
  }
}

@QueryHandler(GetBalanceQuery)
class StandInGetBalanceHandler implements IQueryHandler<GetBalanceQuery> {
  constructor(private readonly ledger: LedgerStandIn) {}

  execute({ account }: GetBalanceQuery): Promise<AccountBalances> {
    return this.ledger.read(account);
  }
}

// Registered as module `ledger`, so the platform counts the ledger as hosted here and leaves the
// stand-in's handler in place (for a module hosted nowhere it would bind a remote forwarder).
@Module({ imports: [MessagingModule.forModule(defineModule({ name: 'ledger', schema: false }))], providers: [LedgerStandIn, StandInGetBalanceHandler], exports: [LedgerStandIn] })
class LedgerStandInModule {}

const change = (account: string, entrySeq: number, currency = 'EUR') =>
  new BalanceChanged({ account, currency, balance: String(entrySeq * 10), delta: '10', transferId: `t-${entrySeq}`, entrySeq: String(entrySeq) });
const balance = (account: string, entrySeq: number, currency = 'EUR'): BalanceSnapshot => ({ account, currency, balance: String(entrySeq * 10), entrySeq: String(entrySeq) });

describe('notifications scenarios (module alone with the messaging platform and a stand-in ledger, real PostgreSQL)', () => {
  let scenario: Scenario;
  let registry: ConnectionRegistry;
  let ledger: LedgerStandIn;
  let gateway: BalanceChangesGateway;
  const saved = { ...process.env };

  /** A client connected to the gateway. */
  const connect = (): RecordingSocket => {
    const socket = new RecordingSocket();
    gateway.handleConnection(socket as unknown as WebSocket);
    return socket;
  };
  const framesUntil = (socket: RecordingSocket, done: (socket: RecordingSocket) => boolean) =>
    scenario.when.action(async () => undefined).andWaitForStateChange(() => socket.frames, () => done(socket));
  const subscribed = async (socket: RecordingSocket, ...accounts: string[]): Promise<Frame> => {
    const before = socket.ofType('subscribed').length + socket.ofType('error').length;
    socket.command('subscribe', ...accounts);
    await framesUntil(socket, (s) => s.ofType('subscribed').length + s.ofType('error').length > before);
    return socket.frames.filter((frame) => frame.type === 'subscribed' || frame.type === 'error').at(-1) as Frame;
  };

  beforeAll(async () => {
    process.env['NOTIFY_SNAPSHOT_TIMEOUT_MS'] = String(SNAPSHOT_TIMEOUT_MS);
    process.env['NOTIFY_SNAPSHOT_BUFFER_SIZE'] = String(SNAPSHOT_BUFFER_SIZE);
    scenario = await Scenario.boot({ modules: [NotificationsModule, LedgerStandInModule], name: 'notifications_scenario' });
    registry = scenario.app.get(ConnectionRegistry);
    ledger = scenario.app.get(LedgerStandIn);
    gateway = scenario.app.get(BalanceChangesGateway);
  });

  afterAll(async () => {
    process.env = saved;
    await scenario?.close();
  });

  it('given a client following an account, when its balance changes, then the client receives the change and others do not', async () => {
    const alice = connect();
    const bob = connect();
    const asked = Date.now();
    await subscribed(alice, 'alice');
    await subscribed(bob, 'bob');
    // Each read ran under the subscribe's deadline, which a remote GetBalanceQuery carries to the ledger.
    expect(ledger.deadlines).toHaveLength(2);
    for (const deadline of ledger.deadlines) expect(deadline).toBeGreaterThanOrEqual(asked + SNAPSHOT_TIMEOUT_MS);
    expect(Math.max(...(ledger.deadlines as number[]))).toBeLessThanOrEqual(Date.now() + SNAPSHOT_TIMEOUT_MS);

    // Best-effort delivery is outside "settled" (no inbox), so the state is awaited after it.
    const { state } = await scenario.when
      .events([change('alice', 1), change('carol', 2), change('alice', 3)])
      .andWaitForStateChange(
        () => alice.changes('alice'),
        (changes) => changes.length === 2,
      );

    expect(state).toEqual(['EUR:1', 'EUR:3']);
    expect(bob.ofType('balance-changed')).toEqual([]);
    expect(registry.stats()).toMatchObject({ delivered: 2, dropped: 0 });
  });

  it('given changes that arrive while the balances are read, then the client gets the balances first and only the changes after them, in order', async () => {
    ledger.answers.set('dora', [[balance('dora', 4), balance('dora', 2, 'USD')]]);
    const client = connect();
    await subscribed(client, 'sentinel-1');
    ledger.close();
    client.command('subscribe', 'dora');
    await framesUntil(client, () => ledger.reads.get('dora') === 1);

    // While the read waits: dora's changes (some the snapshot already shows), then a change of an
    // account already followed, which arrives after them (relay order) and is forwarded at once.
    await scenario.when
      .events([change('dora', 3), change('dora', 4), change('dora', 5), change('dora', 6, 'GBP'), change('sentinel-1', 1)])
      .andWaitForStateChange(() => client.changes('sentinel-1'), (changes) => changes.length === 1);
    expect(client.ofType('subscribed')).toHaveLength(1);
    ledger.open();
    await framesUntil(client, (s) => s.ofType('subscribed').length === 2);
    await scenario.when.events([change('dora', 7)]).andWaitForStateChange(() => client.changes('dora'), (changes) => changes.length === 3);

    const afterSentinel = client.frames.slice(client.frames.findIndex((frame) => frame['account'] === 'sentinel-1') + 1);
    expect(afterSentinel.map((frame) => (frame.type === 'subscribed' ? `subscribed ${JSON.stringify(frame['balances'])}` : `${frame['currency']}:${frame['entrySeq']}`))).toEqual([
      `subscribed ${JSON.stringify([balance('dora', 4), balance('dora', 2, 'USD')])}`,
      'EUR:5',
      'GBP:6',
      'EUR:7',
    ]);
    expect(client.ofType('subscribed').at(-1)).toMatchObject({ accounts: ['dora', 'sentinel-1'] });
  });

  it('given more changes than the buffer holds while the balances are read, then it reads them again and still leaves no gap', async () => {
    // The first read shows the balance before the burst; any read after it shows the burst applied.
    ledger.answers.set('erin', [[balance('erin', 2)], [balance('erin', 9)]]);
    const client = connect();
    await subscribed(client, 'sentinel-2');
    ledger.close();
    client.command('subscribe', 'erin');
    await framesUntil(client, () => ledger.reads.get('erin') === 1);

    const burst = [3, 4, 5, 6, 7, 8, 9].map((seq) => change('erin', seq)); // more than SNAPSHOT_BUFFER_SIZE
    await scenario.when.events([...burst, change('sentinel-2', 1)]).andWaitForStateChange(() => client.changes('sentinel-2'), (changes) => changes.length === 1);
    ledger.open();
    await framesUntil(client, (s) => s.ofType('subscribed').length === 2);
    await scenario.when.events([change('erin', 10)]).andWaitForStateChange(() => client.changes('erin'), (changes) => changes.length > 0);

    expect(ledger.reads.get('erin')).toBe(2);
    expect(client.ofType('subscribed').at(-1)?.['balances']).toEqual([balance('erin', 9)]);
    expect(client.changes('erin')).toEqual(['EUR:10']);
  });

  it('given a ledger that does not answer in time, then the subscribe is refused by its deadline, naming the accounts, and nothing is followed', async () => {
    const client = connect();
    await subscribed(client, 'sentinel-3');
    ledger.close();
    const answer = await subscribed(client, 'frank');
    ledger.open();

    expect(answer).toEqual({
      type: 'error',
      code: 'SNAPSHOT_UNAVAILABLE',
      message: expect.stringMatching(/^accounts: current balances unavailable: the ledger did not answer within 1000 ms \(NOTIFY_SNAPSHOT_TIMEOUT_MS\); nothing subscribed/),
    });
    // Not followed: its change reaches nobody (the sentinel's, after it, does); a later subscribe works once the ledger answers.
    await scenario.when.events([change('frank', 1), change('sentinel-3', 1)]).andWaitForStateChange(() => client.changes('sentinel-3'), (changes) => changes.length === 1);
    expect(client.changes('frank')).toEqual([]);
    expect(await subscribed(client, 'frank')).toMatchObject({ type: 'subscribed', accounts: ['frank', 'sentinel-3'], balances: [] });
  });
});

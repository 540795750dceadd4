import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { IntegrationEventClass } from '@modulith/messaging/events';
import { contractSnapshotPath } from './contract-paths';
import { contractEvents, contractProblems, fileSnapshots, snapshotOf, writeContractSnapshots, type ContractEvent, type RepositorySubscriber, type SnapshotStore } from './contract-snapshots';
import { eventFlow } from './event-flow';
import { readWorkspace } from './workspace-model';

const WORKSPACE_ROOT = join(__dirname, '..', '..');

let events: ContractEvent[];
let subscribers: RepositorySubscriber[];
const committed = fileSnapshots(WORKSPACE_ROOT);

beforeAll(async () => {
  events = contractEvents(WORKSPACE_ROOT);
  const flow = eventFlow(await readWorkspace(WORKSPACE_ROOT));
  subscribers = flow.subscriptions.flatMap((subscription) => {
    const type = flow.events.find((event) => event.id === subscription.event)?.type;
    return type ? [{ subscriber: `${subscription.module}: ${subscription.name ?? `${subscription.className}.${subscription.method}`}`, eventType: type }] : [];
  });
}, 120_000);

/** The repository's events with `planted` standing in for the class of the same type. */
const plant = (planted: Partial<IntegrationEventClass> & { type: string }): ContractEvent[] =>
  events.map((event) => {
    if (event.eventClass.type !== planted.type) return event;
    const eventClass = Object.assign(class extends (event.eventClass as new (payload: object) => object) {}, event.eventClass, planted);
    Object.defineProperty(eventClass, 'name', { value: event.eventClass.name });
    return { ...event, eventClass: eventClass as unknown as IntegrationEventClass };
  });
/** The committed snapshots plus `extra` (`"<type>/v<n>"` → schema). */
const withSnapshots = (extra: Record<string, object>): SnapshotStore => ({
  versions: (type) => [...new Set([...committed.versions(type), ...Object.keys(extra).filter((key) => key.startsWith(`${type}/`)).map((key) => Number(key.split('/v')[1]))])].sort(),
  read: (type, version) => extra[`${type}/v${version}`] ?? committed.read(type, version),
});

const TRANSFER = 'ingestion.transfer-ingested';
const transferClass = () => events.find((event) => event.eventClass.type === TRANSFER)?.eventClass as IntegrationEventClass;

describe('contract snapshots (contracts/<event type>/v<N>.schema.json)', () => {
  it('match the code, and every subscriber in the repository reads a version its upcasters reach (regenerate with "npm run contracts")', () => {
    expect(events.map((event) => event.eventClass.type)).toEqual(expect.arrayContaining([TRANSFER, 'ledger.balance-changed']));
    expect(subscribers.map((subscriber) => subscriber.eventType)).toContain(TRANSFER);
    const problems = contractProblems(events, committed, subscribers);
    if (problems.length > 0) throw new Error(problems.join('\n'));
  });

  it('fail on an incompatible change to TransferIngested without a new version, naming the field', () => {
    const schema = Type.Object({ ...transferClass().schema?.properties, amount: Type.Integer() } as never);
    expect(contractProblems(plant({ type: TRANSFER, schema }), committed, subscribers)).toEqual([
      expect.stringMatching(/^TransferIngested \(ingestion\.transfer-ingested, ingestion-contracts\) v1 changed incompatibly without a new version: field amount: type changed from "string" to "integer"/),
    ]);
    const { currency: _removed, ...rest } = transferClass().schema?.properties as Record<string, never>;
    expect(contractProblems(plant({ type: TRANSFER, schema: Type.Object(rest) }), committed)).toEqual([expect.stringContaining('field currency: removed')]);
  });

  it('pass a v2 with an upcaster once its schema is committed, and ask for the snapshot before', () => {
    const schema = Type.Object({ ...transferClass().schema?.properties, memo: Type.String() } as never);
    const v2 = { type: TRANSFER, version: 2, schema, upcasters: { 1: (v1: object) => ({ ...v1, memo: '' }) } };
    expect(contractProblems(plant(v2), committed, subscribers)).toEqual([expect.stringContaining(`v2 has no committed schema (${contractSnapshotPath(TRANSFER, 2)}): run "npm run contracts"`)]);
    const planted = plant(v2);
    const snapshot = snapshotOf(planted.find((event) => event.eventClass.type === TRANSFER)?.eventClass as IntegrationEventClass);
    expect(contractProblems(planted, withSnapshots({ [`${TRANSFER}/v2`]: snapshot }), subscribers)).toEqual([]);
  });

  it('fail when a subscriber in the repository reads a version no upcaster reaches from a committed one', () => {
    const schema = Type.Object({ ...transferClass().schema?.properties, memo: Type.String() } as never);
    const v2 = plant({ type: TRANSFER, version: 2, schema });
    const snapshot = snapshotOf(v2.find((event) => event.eventClass.type === TRANSFER)?.eventClass as IntegrationEventClass);
    const problems = contractProblems(v2, withSnapshots({ [`${TRANSFER}/v2`]: snapshot }), subscribers);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('TransferIngested (ingestion.transfer-ingested) is at version 2 but declares no upcaster from version 1 to 2'),
        expect.stringMatching(/^ledger: ledger\.apply-transfers reads ingestion\.transfer-ingested v2, but no upcaster reaches it from committed v1 \(TransferIngested\.upcasters\[1\] is missing\)$/),
      ]),
    );
    // A class brought back below a committed version: nothing reads the newer events.
    expect(contractProblems(events, withSnapshots({ [`${TRANSFER}/v3`]: {} }), subscribers)).toEqual(
      expect.arrayContaining([expect.stringContaining('reads ingestion.transfer-ingested v1, but no upcaster reaches it from committed v3 (a newer version than its class)')]),
    );
  });

  it('fail on a contracts event without a schema, and on a compatible change not yet committed', () => {
    expect(contractProblems(plant({ type: TRANSFER, schema: undefined }), committed)).toEqual([expect.stringContaining('declares no "static readonly schema"')]);
    const schema = Type.Object({ ...transferClass().schema?.properties, memo: Type.Optional(Type.String()) } as never);
    expect(contractProblems(plant({ type: TRANSFER, schema }), committed)).toEqual([expect.stringContaining('v1: the committed schema is stale (the change is compatible): run "npm run contracts"')]);
  });

  it('are written by "npm run contracts" as the check reads them', () => {
    const folder = mkdtempSync(join(tmpdir(), 'contracts-'));
    try {
      const written = writeContractSnapshots(folder, events);
      expect(written).toContain(contractSnapshotPath(TRANSFER, 1));
      expect(JSON.parse(readFileSync(join(folder, contractSnapshotPath(TRANSFER, 1)), 'utf8'))).toEqual(snapshotOf(transferClass()));
      expect(contractProblems(events, fileSnapshots(folder))).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

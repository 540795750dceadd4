import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { eventCodec, IntegrationEvent, type IntegrationEventClass } from '@modulith/messaging/events';
import { incompatibilities } from './contract-compatibility';
import { CONTRACTS_DIR, contractSnapshotPath } from './contract-paths';

/** An integration event exported by a contracts library, loaded (its schema is a runtime value). */
export interface ContractEvent {
  project: string;
  eventClass: IntegrationEventClass;
}

/** The committed schemas, by event type and version. */
export interface SnapshotStore {
  versions(type: string): number[];
  read(type: string, version: number): object | undefined;
}

/** A subscriber found in the repository's code, and the event type it reads. */
export interface RepositorySubscriber {
  subscriber: string;
  eventType: string;
}

const SKIP = new Set(['node_modules', 'dist', '.nx', 'tmp', 'coverage', '.data']);

/** Every event class exported by a `type:contracts` project under libs/ (loaded through its `src/index.ts`). */
export function contractEvents(root: string): ContractEvent[] {
  const found: ContractEvent[] = [];
  for (const projectFile of projectFiles(join(root, 'libs'))) {
    const project = JSON.parse(readFileSync(projectFile, 'utf8')) as { name: string; tags?: string[]; sourceRoot?: string };
    if (!project.tags?.includes('type:contracts')) continue;
    const entry = join(root, project.sourceRoot ?? join(dirname(projectFile), 'src'), 'index.ts');
    const exported = require(entry) as Record<string, unknown>;
    for (const value of Object.values(exported)) {
      if (typeof value === 'function' && value.prototype instanceof IntegrationEvent) found.push({ project: project.name, eventClass: value as IntegrationEventClass });
    }
  }
  return found.sort((a, b) => (a.eventClass.type < b.eventClass.type ? -1 : a.eventClass.type > b.eventClass.type ? 1 : 0));
}

function projectFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIP.has(entry.name) ? [] : projectFiles(join(folder, entry.name));
    return entry.name === 'project.json' ? [join(folder, entry.name)] : [];
  });
}

/** The committed file's content for an event's current version: its JSON Schema, named. */
export function snapshotOf(eventClass: IntegrationEventClass): object {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `${eventClass.type}/v${eventClass.version}`,
    title: `${eventClass.name} v${eventClass.version}`,
    ...JSON.parse(JSON.stringify(eventClass.schema ?? {})),
  };
}

/** Writes each event's current version under contracts/ (older versions' files stay: they are history). Returns the paths written. */
export function writeContractSnapshots(root: string, events: readonly ContractEvent[]): string[] {
  return events
    .filter(({ eventClass }) => eventClass.schema)
    .map(({ eventClass }) => {
      const path = contractSnapshotPath(eventClass.type, eventClass.version);
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), `${JSON.stringify(snapshotOf(eventClass), null, 2)}\n`);
      return path;
    });
}

/** The snapshots committed under `root`/contracts. */
export function fileSnapshots(root: string): SnapshotStore {
  const folder = (type: string) => join(root, CONTRACTS_DIR, type);
  return {
    versions: (type) =>
      existsSync(folder(type))
        ? readdirSync(folder(type))
            .map((name) => /^v(\d+)\.schema\.json$/.exec(name)?.[1])
            .filter((version): version is string => version !== undefined)
            .map(Number)
            .sort((a, b) => a - b)
        : [],
    read: (type, version) => {
      const path = join(root, contractSnapshotPath(type, version));
      return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as object) : undefined;
    },
  };
}

/**
 * What is wrong between the events in code, their committed schemas and the repository's
 * subscribers, one sentence each naming the event (and the field): a missing schema, a gap in
 * the upcasters, a schema changed without a new version (incompatibly: see
 * `contract-compatibility.ts`; compatibly: a stale snapshot), a version with no committed
 * schema, and a subscriber whose class's version no upcaster chain reaches from a committed one.
 */
export function contractProblems(events: readonly ContractEvent[], store: SnapshotStore, subscribers: readonly RepositorySubscriber[] = []): string[] {
  const problems: string[] = [];
  for (const { eventClass, project } of events) {
    const name = `${eventClass.name} (${eventClass.type}, ${project})`;
    if (!eventClass.schema) {
      problems.push(`${name} declares no "static readonly schema": every contracts event needs one (TypeBox)`);
      continue;
    }
    try {
      eventCodec(eventClass);
    } catch (error) {
      problems.push((error as Error).message);
    }
    const committed = store.read(eventClass.type, eventClass.version);
    if (!committed) {
      problems.push(`${name} v${eventClass.version} has no committed schema (${contractSnapshotPath(eventClass.type, eventClass.version)}): run "npm run contracts"`);
      continue;
    }
    const current = snapshotOf(eventClass);
    const broken = incompatibilities(committed, current);
    for (const { field, reason } of broken) {
      problems.push(
        `${name} v${eventClass.version} changed incompatibly without a new version: field ${field}: ${reason}. ` +
          `Keep the committed schema, or publish version ${eventClass.version + 1} with upcasters[${eventClass.version}] and run "npm run contracts"`,
      );
    }
    if (broken.length === 0 && JSON.stringify(committed) !== JSON.stringify(current)) {
      problems.push(`${name} v${eventClass.version}: the committed schema is stale (the change is compatible): run "npm run contracts"`);
    }
  }
  for (const { subscriber, eventType } of subscribers) {
    const event = events.find(({ eventClass }) => eventClass.type === eventType);
    if (!event) continue;
    const { eventClass } = event;
    for (const version of store.versions(eventType)) {
      const missing = Array.from({ length: Math.max(0, eventClass.version - version) }, (_, index) => version + index).find(
        (from) => typeof eventClass.upcasters?.[from] !== 'function',
      );
      if (version > eventClass.version || missing !== undefined) {
        problems.push(
          `${subscriber} reads ${eventType} v${eventClass.version}, but no upcaster reaches it from committed v${version}` +
            (missing !== undefined ? ` (${eventClass.name}.upcasters[${missing}] is missing)` : ' (a newer version than its class)'),
        );
      }
    }
  }
  return problems;
}

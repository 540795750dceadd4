import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { workspaceRoot } from '@nx/devkit';
import { schemaOwners } from './checks';
import { contractSnapshotPath } from './contract-paths';
import { deliveryOf, eventFlow, type EventFlow, type EventInfo } from './event-flow';
import { readWorkspace, tagValue, type ProjectInfo, type WorkspaceModel } from './workspace-model';

/** Where the generated page lives, relative to the workspace root. */
export const DOCS_PATH = 'docs/architecture.md';

const LAYERS = ['app', 'module', 'contracts', 'platform'] as const;
const LAYER_TITLES: Record<string, string> = { app: 'apps', module: 'modules', contracts: 'contracts', platform: 'platform' };

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const id = (prefix: string, name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
const code = (text: string) => `\`${text}\``;
const list = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : '—');

function allowedDependencies(model: WorkspaceModel): string[] {
  const rules = [...model.lintRules].sort((a, b) => byText(a.sourceTag, b.sourceTag));
  const types = [...new Set(rules.flatMap((rule) => [rule.sourceTag, ...rule.onlyDependOnLibsWithTags]))].sort();
  const lines = ['```mermaid', 'flowchart LR'];
  for (const type of types) lines.push(`  ${id('t', type)}["${type}"]`);
  for (const rule of rules) {
    for (const target of [...rule.onlyDependOnLibsWithTags].sort()) lines.push(`  ${id('t', rule.sourceTag)} --> ${id('t', target)}`);
  }
  lines.push('```', '', '| a project tagged | may depend only on projects tagged |', '|---|---|');
  for (const rule of rules) lines.push(`| ${code(rule.sourceTag)} | ${[...rule.onlyDependOnLibsWithTags].sort().map(code).join(', ')} |`);
  return lines;
}

function projectGraph(projects: readonly ProjectInfo[]): string[] {
  const shown = projects.filter((project) => (LAYERS as readonly string[]).includes(tagValue(project, 'type') ?? ''));
  const names = new Set(shown.map((project) => project.name));
  const lines = ['```mermaid', 'flowchart TB'];
  for (const layer of LAYERS) {
    const members = shown.filter((project) => tagValue(project, 'type') === layer);
    if (members.length === 0) continue;
    lines.push(`  subgraph ${id('layer', layer)}["${LAYER_TITLES[layer]}"]`);
    for (const project of members) lines.push(`    ${id('p', project.name)}["${project.name}"]`);
    lines.push('  end');
  }
  for (const project of shown) {
    for (const target of project.dependencies.filter((name) => names.has(name))) lines.push(`  ${id('p', project.name)} --> ${id('p', target)}`);
  }
  lines.push('```');
  return lines;
}

function modulesTable(model: WorkspaceModel, flow: EventFlow): string[] {
  const owners = schemaOwners(model);
  const eventName = (eventId: string) => flow.events.find((event) => event.id === eventId)?.className ?? eventId;
  const modules = model.projects.filter((project) => tagValue(project, 'type') === 'module');
  const lines = ['| module | project | owns schema | contracts | depends on | publishes | consumes |', '|---|---|---|---|---|---|---|'];
  for (const project of modules) {
    const scope = tagValue(project, 'scope') ?? project.name;
    const schemas = [...owners.entries()].filter(([, scopes]) => scopes.has(scope)).map(([schema]) => code(schema)).sort();
    const contracts = model.projects
      .filter((candidate) => tagValue(candidate, 'type') === 'contracts' && tagValue(candidate, 'scope') === scope)
      .map((candidate) => code(candidate.packageName ?? candidate.name));
    const publishes = flow.publications.filter((publication) => publication.project === project.name).map((publication) => eventName(publication.event));
    const consumes = flow.subscriptions
      .filter((subscription) => subscription.project === project.name)
      .map((subscription) => `${eventName(subscription.event)} (${deliveryOf(subscription)})`);
    lines.push(
      `| ${scope} | ${project.name} | ${list(schemas)} | ${list(contracts)} | ${list(project.dependencies)} | ${list([...new Set(publishes)].sort())} | ${list(consumes)} |`,
    );
  }
  return lines;
}

function eventDiagram(flow: EventFlow): string[] {
  const modules = [...new Set([...flow.publications.map((p) => p.module), ...flow.subscriptions.map((s) => s.module)])].sort();
  const used = new Set([...flow.publications.map((p) => p.event), ...flow.subscriptions.map((s) => s.event)]);
  const events = flow.events.filter((event) => used.has(event.id));
  const lines = ['```mermaid', 'flowchart LR'];
  for (const module of modules) lines.push(`  ${id('m', module)}(["${module}"])`);
  for (const event of events) lines.push(`  ${id('e', event.id)}{{"${event.className}"}}`);
  for (const publication of flow.publications) lines.push(`  ${id('m', publication.module)} -->|publishes| ${id('e', publication.event)}`);
  for (const subscription of flow.subscriptions) {
    const arrow = subscription.mode === 'best-effort' ? '-.->' : '==>';
    lines.push(`  ${id('e', subscription.event)} ${arrow}|${deliveryOf(subscription)}| ${id('m', subscription.module)}`);
  }
  lines.push('```');
  return lines;
}

/** Contracts events link to their committed JSON Schema (contracts/, checked by tools/architecture/contracts.spec.ts). */
function eventsTable(model: WorkspaceModel, flow: EventFlow): string[] {
  const contracts = new Set(model.projects.filter((project) => tagValue(project, 'type') === 'contracts').map((project) => project.name));
  const schemaLink = (event: EventInfo) =>
    event.type && event.version && contracts.has(event.project) ? `[v${event.version}](../${contractSnapshotPath(event.type, event.version)})` : '—';
  const lines = ['| event | type | version | schema | declared in | published by | subscribers |', '|---|---|---|---|---|---|---|'];
  for (const event of flow.events) {
    const publishers = flow.publications.filter((p) => p.event === event.id).map((p) => p.module);
    const subscribers = flow.subscriptions
      .filter((s) => s.event === event.id)
      .map((s) => `${s.module}: ${code(s.name ?? `${s.className}.${s.method}`)}, ${deliveryOf(s)}`);
    lines.push(
      `| ${code(event.className)} | ${event.type ? code(event.type) : '—'} | ${event.version ?? '—'} | ${schemaLink(event)} | ${event.project} | ${list(publishers)} | ${subscribers.join('; ') || '—'} |`,
    );
  }
  return lines;
}

function transportText(flow: EventFlow): string[] {
  const classes = flow.transports.length > 0 ? flow.transports.map(code).join(', ') : 'none found';
  const setting = flow.transportSetting;
  const choice = setting
    ? `The transport is chosen by the ${code('eventTransport')} option of ${code('MessagingModule.forRoot')} (${code('EVENT_TRANSPORT')} in the reference app): ` +
      setting.choices.map(code).join(' or ') +
      (setting.defaultValue ? ` (default ${code(setting.defaultValue)}).` : '.')
    : `${code('@modulith/messaging')} has no ${code('eventTransport')} option yet: every event travels in-process.`;
  return [
    `Transports in ${code('@modulith/messaging')}: ${classes}. ${choice}`,
    '',
    '- **Durable** subscribers (thick arrows) get each event at least once and apply it once: the relay moves',
    '  committed outbox rows to the transport, and the subscriber records the event in its own inbox in the',
    '  same transaction as its effect; failures are retried, then dead-lettered. Over Redis Streams each',
    '  subscribing module is one consumer group, so its replicas share the events.',
    '- **Best-effort** subscribers (dotted arrows) get events from a bounded in-memory queue on every',
    '  instance (broadcast): no inbox, no retry, drops are counted.',
  ];
}

/** The model in one canonical order, so the page does not depend on the order things were read in. */
function canonical(model: WorkspaceModel): WorkspaceModel {
  return {
    projects: [...model.projects]
      .map((project) => ({ ...project, tags: [...project.tags].sort(byText), dependencies: [...project.dependencies].sort(byText) }))
      .sort((a, b) => byText(a.name, b.name)),
    files: [...model.files].sort((a, b) => byText(a.path, b.path)),
    lintRules: [...model.lintRules]
      .map((rule) => ({ ...rule, onlyDependOnLibsWithTags: [...rule.onlyDependOnLibsWithTags].sort(byText) }))
      .sort((a, b) => byText(a.sourceTag, b.sourceTag)),
  };
}

/** The whole page, from the model alone: the same model in any order gives the same bytes. */
export function renderArchitectureDocs(input: WorkspaceModel): string {
  const model = canonical(input);
  const flow = eventFlow(model);
  const undeclared = flow.events.filter((event: EventInfo) => !event.type);
  return [
    '# Architecture',
    '',
    '<!-- Generated by `npm run docs` (tools/scripts/architecture-docs.mjs) from the Nx project graph, the',
    '     project tags, eslint.config.mjs and the code. Do not edit by hand: tools/architecture/',
    '     architecture-docs.spec.ts fails when this file is stale. -->',
    '',
    'The rules below are checked, not hoped for: `@nx/enforce-module-boundaries` (eslint.config.mjs) and',
    '`tools/architecture/architecture.spec.ts` (tags, cycles, module → module dependencies, schema ownership).',
    '',
    '## Allowed dependencies',
    '',
    ...allowedDependencies(model),
    '',
    '## Projects and their dependencies',
    '',
    'From the Nx project graph (the `tools` project is left out).',
    '',
    ...projectGraph(model.projects),
    '',
    '## Modules',
    '',
    ...modulesTable(model, flow),
    '',
    '## Event flow',
    '',
    'Who publishes which integration event (a module constructs it and appends it to its outbox) and who',
    'subscribes (`@OnIntegrationEvent`).',
    '',
    ...eventDiagram(flow),
    '',
    ...eventsTable(model, flow),
    ...(undeclared.length > 0 ? ['', `Events without a static \`type\`: ${undeclared.map((event) => code(event.className)).join(', ')}.`] : []),
    '',
    ...transportText(flow),
    '',
  ].join('\n');
}

/** Why `actual` (the file on disk, null if missing) is not `expected`, or undefined when it is. */
export function staleness(expected: string, actual: string | null): string | undefined {
  if (actual === null) return `${DOCS_PATH} is missing: run "npm run docs"`;
  if (actual === expected) return undefined;
  const want = expected.split('\n');
  const have = actual.split('\n');
  const index = want.findIndex((line, at) => line !== have[at]);
  const at = index === -1 ? want.length : index;
  return (
    `${DOCS_PATH} is stale: run "npm run docs" ` +
    `(line ${at + 1}: the code gives ${JSON.stringify(want[at] ?? '<end of file>')}, the file has ${JSON.stringify(have[at] ?? '<end of file>')})`
  );
}

export interface DocsResult {
  path: string;
  /** The file on disk matched the code (before writing, if it wrote). */
  upToDate: boolean;
  /** Why it did not, if it did not. */
  problem?: string;
  expected: string;
  actual: string | null;
}

/** Renders the page for the workspace this process runs in and, unless `check`, writes it. */
export async function writeArchitectureDocs(options: { check?: boolean; root?: string } = {}): Promise<DocsResult> {
  const root = options.root ?? workspaceRoot;
  const path = join(root, DOCS_PATH);
  const expected = renderArchitectureDocs(await readWorkspace(root));
  const actual = existsSync(path) ? readFileSync(path, 'utf8') : null;
  const problem = staleness(expected, actual);
  if (!options.check && problem) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, expected);
  }
  return { path: DOCS_PATH, upToDate: !problem, ...(problem ? { problem } : {}), expected, actual };
}

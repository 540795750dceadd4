import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCS_PATH, renderArchitectureDocs, staleness } from './architecture-docs';
import { withFiles } from './checks';
import { eventFlow } from './event-flow';
import { readWorkspace, type WorkspaceModel } from './workspace-model';

const WORKSPACE_ROOT = join(__dirname, '..', '..');

let model: WorkspaceModel;

beforeAll(async () => {
  model = await readWorkspace(WORKSPACE_ROOT);
}, 120_000);

describe(DOCS_PATH, () => {
  it('is up to date with the project graph and the code (regenerate with "npm run docs")', () => {
    const path = join(WORKSPACE_ROOT, DOCS_PATH);
    const problem = staleness(renderArchitectureDocs(model), existsSync(path) ? readFileSync(path, 'utf8') : null);
    if (problem) throw new Error(problem);
  });

  it('is reported stale, with the first differing line, when the code and the page disagree', () => {
    const current = renderArchitectureDocs(model);
    const withoutLedger = renderArchitectureDocs({ ...model, projects: model.projects.filter((project) => project.name !== 'ledger') });
    expect(staleness(current, withoutLedger)).toMatch(/^docs\/architecture\.md is stale: run "npm run docs" \(line \d+: the code gives ".*ledger.*", the file has /);
    expect(staleness(current, null)).toBe('docs/architecture.md is missing: run "npm run docs"');
    expect(staleness(current, current)).toBeUndefined();
  });

  it('renders the same bytes whatever order the projects and files come in', () => {
    const shuffled: WorkspaceModel = {
      ...model,
      projects: [...model.projects].reverse().map((project) => ({ ...project, dependencies: [...project.dependencies].reverse() })),
      files: [...model.files].reverse(),
      lintRules: [...model.lintRules].reverse(),
    };
    expect(renderArchitectureDocs(shuffled)).toBe(renderArchitectureDocs(model));
  });

  it('draws every project, the allowed dependencies and a Mermaid diagram per section', () => {
    const page = renderArchitectureDocs(model);
    expect(page.match(/```mermaid/g)).toHaveLength(3);
    for (const project of ['api', 'ingestion', 'ingestion-contracts', 'platform-messaging']) expect(page).toContain(`["${project}"]`);
    expect(page).toContain('| `type:module` | `type:contracts`, `type:platform`, `type:testing` |');
  });

  it('links each contracts event to its committed JSON Schema, and the link leads to a file', () => {
    const page = renderArchitectureDocs(model);
    const links = [...page.matchAll(/\[v\d+\]\(\.\.\/(contracts\/[^)]+\.schema\.json)\)/g)].map((match) => match[1]);
    expect(links).toEqual(expect.arrayContaining(['contracts/ingestion.transfer-ingested/v1.schema.json', 'contracts/ledger.balance-changed/v1.schema.json']));
    for (const link of links) expect(existsSync(join(WORKSPACE_ROOT, link))).toBe(true);
  });
});

describe('event flow', () => {
  it('finds who publishes and who subscribes, with the delivery', () => {
    const flow = eventFlow(model);
    const transferIngested = flow.events.find((event) => event.className === 'TransferIngested');
    expect(transferIngested).toMatchObject({ type: 'ingestion.transfer-ingested', version: 1, project: 'ingestion-contracts' });
    expect(flow.publications).toContainEqual({ event: 'ingestion-contracts:TransferIngested', module: 'ingestion', project: 'ingestion' });
    expect(flow.subscriptions).toContainEqual(
      expect.objectContaining({ event: 'ingestion-contracts:TransferIngested', module: 'ledger', mode: 'batch', batch: 500, name: 'ledger.apply-transfers' }),
    );
    expect(flow.subscriptions).toContainEqual(expect.objectContaining({ event: 'ledger-contracts:BalanceChanged', module: 'notifications', mode: 'best-effort' }));
  });

  it('follows a planted subscriber and publisher into the page', () => {
    const planted = withFiles(model, [
      {
        project: 'analytics',
        path: 'libs/analytics/module/src/planted/planted.handler.ts',
        text: [
          "import { BalanceChanged } from '@modulith/ledger/contracts';",
          "import { TransferIngested } from '@modulith/ingestion/contracts';",
          'export class PlantedHandler {',
          "  @OnIntegrationEvent(BalanceChanged, { name: 'analytics.planted' })",
          '  on(event: BalanceChanged): void {',
          "    void new TransferIngested({ transferId: 't', from: 'a', to: 'b', amount: '1', currency: 'EUR', occurredAt: '' });",
          '  }',
          '}',
          '',
        ].join('\n'),
      },
    ]);
    const page = renderArchitectureDocs(planted);
    expect(page).toContain('e_ledger_contracts_BalanceChanged ==>|durable, one at a time| m_analytics');
    expect(page).toContain('m_analytics -->|publishes| e_ingestion_contracts_TransferIngested');
    expect(page).toContain('analytics: `analytics.planted`, durable, one at a time');
    expect(page).not.toBe(renderArchitectureDocs(model));
  });

  it('tells apart two events of the same class name by where they are imported from', () => {
    const twin = {
      project: 'ledger-contracts',
      path: 'libs/ledger/contracts/src/transfer-ingested.event.ts',
      text: "export class TransferIngested extends IntegrationEvent<object> {\n  static readonly type = 'ledger.transfer-ingested';\n  static readonly version = 1;\n}\n",
    };
    const flow = eventFlow(withFiles(model, [twin]));
    expect(flow.events.filter((event) => event.className === 'TransferIngested').map((event) => event.id)).toEqual([
      'ingestion-contracts:TransferIngested',
      'ledger-contracts:TransferIngested',
    ]);
    expect(flow.subscriptions.filter((s) => s.module === 'analytics').map((s) => s.event)).toEqual(['ingestion-contracts:TransferIngested']);
  });
});

import { join } from 'node:path';
import {
  checkCycles,
  checkLayers,
  checkLintRules,
  checkModuleDependencies,
  checkSchemaOwnership,
  checkTags,
  schemaReferences,
  verifyArchitecture,
  withFiles,
} from './checks';
import { TempWorkspace } from './temp-workspace';
import { parseLintRules, readWorkspace, type ProjectInfo, type SourceFile, type WorkspaceModel } from './workspace-model';

/**
 * Spring Modulith's `verify()` for this workspace: the checks of ./checks.ts run on the real Nx
 * project graph and code, and each is shown to fail on a planted violation — in a copy of the
 * model (fast, one per rule and shape), and once end to end in a temporary copy of the workspace.
 */

const WORKSPACE_ROOT = join(__dirname, '..', '..');

let model: WorkspaceModel;

beforeAll(async () => {
  model = await readWorkspace(WORKSPACE_ROOT);
}, 120_000);

/** The model with one project changed (or added). */
function withProject(name: string, change: (project: ProjectInfo) => ProjectInfo): ProjectInfo[] {
  const existing = model.projects.find((project) => project.name === name);
  const base: ProjectInfo = existing ?? { name, root: `libs/${name}`, tags: [], dependencies: [] };
  return [...model.projects.filter((project) => project.name !== name), change({ ...base, tags: [...base.tags], dependencies: [...base.dependencies] })];
}

function planted(project: string, path: string, text: string): WorkspaceModel {
  return withFiles(model, [{ project, path, text } satisfies SourceFile]);
}

describe('the real workspace', () => {
  it('passes every architecture check', () => {
    expect(verifyArchitecture(model)).toEqual([]);
  });

  it('is what the checks look at: every project, with tags, dependencies and sources', () => {
    const names = model.projects.map((project) => project.name);
    expect(names).toEqual(expect.arrayContaining(['api', 'tools', 'ingestion', 'ingestion-contracts', 'ledger', 'analytics', 'platform-messaging']));
    const api = model.projects.find((project) => project.name === 'api') as ProjectInfo;
    expect(api.dependencies).toEqual(expect.arrayContaining(['ingestion', 'ledger', 'analytics']));
    expect(model.files.some((file) => file.path === 'libs/ingestion/module/src/ingestion.definition.ts' && file.project === 'ingestion')).toBe(true);
    expect(model.lintRules.map((rule) => rule.sourceTag).sort()).toEqual(['type:app', 'type:contracts', 'type:module', 'type:platform', 'type:testing', 'type:tool']);
  });
});

describe('tags', () => {
  it('rejects a project without a type: tag', () => {
    const projects = withProject('demo', (project) => ({ ...project, tags: ['scope:demo'] }));
    expect(checkTags(projects)).toEqual([expect.stringContaining('project "demo" (libs/demo) has no type: tag; give it one of type:app, type:module')]);
  });

  it('rejects a project without a scope: tag', () => {
    const projects = withProject('ledger', (project) => ({ ...project, tags: ['type:module'] }));
    expect(checkTags(projects)).toEqual(['project "ledger" (libs/ledger/module) has no scope: tag']);
  });

  it('rejects an unknown type and a second type', () => {
    expect(checkTags(withProject('ledger', (p) => ({ ...p, tags: ['type:service', 'scope:ledger'] })))).toEqual([
      expect.stringContaining('project "ledger" (libs/ledger/module) has unknown tag type:service'),
    ]);
    expect(checkTags(withProject('ledger', (p) => ({ ...p, tags: ['type:module', 'type:platform', 'scope:ledger'] })))).toEqual([
      expect.stringContaining('has several type: tags (type:module, type:platform)'),
    ]);
  });
});

describe('cycles', () => {
  it('rejects a cycle, naming its path', () => {
    const projects = withProject('platform-core', (project) => ({ ...project, dependencies: [...project.dependencies, 'platform-messaging'] }));
    expect(checkCycles(projects)).toEqual(['dependency cycle: platform-core → platform-messaging → platform-core']);
  });

  it('rejects a longer cycle, once, starting at its first project by name', () => {
    const projects = withProject('platform-core', (project) => ({ ...project, dependencies: ['ledger'] }));
    const found = checkCycles(projects);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^dependency cycle: (\S+) → .*platform-core → ledger → .*\1$/);
  });

  it('rejects a project that depends on itself', () => {
    const projects = withProject('api', (project) => ({ ...project, dependencies: [...project.dependencies, 'api'] }));
    expect(checkCycles(projects)).toEqual(['dependency cycle: api → api']);
  });
});

describe('module → module', () => {
  it('rejects a module that depends on another module', () => {
    const projects = withProject('analytics', (project) => ({ ...project, dependencies: [...project.dependencies, 'ledger'] }));
    expect(checkModuleDependencies(projects)).toEqual([
      'module "analytics" depends on module "ledger": a module may use another module only through its contracts (commands, queries, integration events)',
    ]);
  });

  it('rejects the other forbidden directions by type', () => {
    const projects = withProject('ledger-contracts', (project) => ({ ...project, dependencies: [...project.dependencies, 'ledger'] }));
    expect(checkLayers(projects)).toEqual(['contracts "ledger-contracts" depends on module "ledger": a contracts may depend only on platform']);
    const upward = withProject('platform-core', (project) => ({ ...project, dependencies: ['ingestion-contracts'] }));
    expect(checkLayers(upward)).toEqual([
      'platform "platform-core" depends on contracts "ingestion-contracts": a platform may depend only on platform, testing',
    ]);
  });

  it('rejects a lint config that drifts from the design', () => {
    const loosened = parseLintRules(
      "[{ sourceTag: 'type:module', onlyDependOnLibsWithTags: ['type:module', 'type:contracts', 'type:platform'] }]",
    );
    expect(checkLintRules(loosened)).toContain(
      'eslint.config.mjs: type:module may depend on [type:contracts, type:module, type:platform], the design says [type:contracts, type:platform, type:testing]',
    );
  });
});

describe('schema ownership', () => {
  const file = 'libs/analytics/module/src/planted.ts';

  it.each([
    ['a raw query', "export const sql = 'SELECT * FROM ledger.balances WHERE account = $1';", 'ledger', 'ledger'],
    ['a quoted name', 'export const sql = `UPDATE "ingestion"."transfers" SET amount = 1`;', 'ingestion', 'ingestion'],
    ['a migration', "await runner.query(`\n  CREATE TABLE ingestion.copy (id text)`);", 'ingestion', 'ingestion'],
    ['the platform outbox', "await tx.query('DELETE FROM messaging.outbox');", 'messaging', 'shared'],
    ['an upper-case name', "export const sql = 'select count(*) from LEDGER.entries';", 'ledger', 'ledger'],
    ['spaces around the dot', "export const sql = 'SELECT * FROM ledger . entries';", 'ledger', 'ledger'],
    ['a comment and a line break around the dot', "export const sql = 'SELECT * FROM ledger/* x */\\n.entries';", 'ledger', 'ledger'],
    ['quotes and spaces', 'export const sql = `SELECT * FROM "ledger" . "entries"`;', 'ledger', 'ledger'],
    ['a unicode-escaped name', 'export const sql = String.raw`SELECT * FROM U&"\\006Cedger".entries`;', 'ledger', 'ledger'],
    ['a name built by concatenation', "export const sql = 'SELECT * FROM ' + 'led' + 'ger.entries';", 'ledger', 'ledger'],
    ['a constant in a template', "const schema = 'ledger';\nexport const sql = `SELECT * FROM ${schema}.entries`;", 'ledger', 'ledger'],
    ['a joined name', "export const sql = `SELECT * FROM ${['ledger', 'entries'].join('.')}`;", 'ledger', 'ledger'],
    ['a concat call', "const from = 'FROM '.concat('ledger', '.entries');\nexport const sql = `SELECT * ${from}`;", 'ledger', 'ledger'],
  ])('rejects another schema in %s', (_label, text, schema, owner) => {
    const found = checkSchemaOwnership(planted('analytics', file, text));
    // a string built in steps may be reported at each step that already names the schema
    expect(found.length).toBeGreaterThan(0);
    expect(found).toEqual(found.map(() => expect.stringMatching(new RegExp(`^${file}:\\d+: module "analytics" has SQL naming schema "${schema}" \\(${owner}\\)`))));
  });

  it.each([
    ['a schema from an import', "import { LEDGER } from './names';\nexport const sql = `SELECT * FROM ${LEDGER}.entries`;", '${LEDGER}'],
    ['a schema from a call, with spaces', 'export const sql = `SELECT * FROM ${schemaOf(module)} . entries`;', '${schemaOf(module)}'],
    ['a schema from a parameter', "export const read = (schema: string) => 'DELETE FROM ' + schema + '.entries';", '${schema}'],
  ])('rejects SQL whose schema is computed at run time: %s', (_label, text, hole) => {
    expect(checkSchemaOwnership(planted('analytics', file, text))).toEqual([
      `${file}:${text.split('\n').length}: module "analytics" has SQL whose schema is computed at run time (${hole}): name the module's own schema literally`,
    ]);
  });

  it.each([
    ['SET', "await tx.query('SET LOCAL search_path TO ledger');"],
    ['set_config', "await tx.query(`SELECT set_config('search_path', 'ledger', true)`);"],
    ['its own schema too', "await tx.query('SET search_path = analytics'); await tx.query('SELECT * FROM entries');"],
  ])('rejects SQL that changes search_path (%s), which would make unqualified names reach another schema', (_label, text) => {
    expect(checkSchemaOwnership(planted('analytics', file, text))).toEqual([
      `${file}:1: module "analytics" has SQL that changes search_path: qualify names with the module's own schema instead`,
    ]);
  });

  it.each([
    ['a dollar-quoted DO body', "await tx.query('DO $$ BEGIN PERFORM 1 FROM ledger.balances; END $$');"],
    ['a function body', "await tx.query(`CREATE FUNCTION f() RETURNS bigint AS $fn$ SELECT count(*) FROM ledger.balances $fn$ LANGUAGE sql`);"],
    ['a query inside a string', "await tx.query(`SELECT query_to_xml('SELECT * FROM ledger.balances', true, false, '')`);"],
    ['a name built from a constant array', "const parts = ['ledger', 'balances'];\nexport const sql = `SELECT * FROM ${parts.join('.')}`;"],
    ['a join with an unknown separator', "export const read = (sep: string) => 'SELECT * FROM ' + ['ledger', 'balances'].join(sep);"],
    ['a .sql file', 'SELECT *\n  FROM ledger.balances;\n', 'libs/analytics/module/src/queries/read.sql'],
    ['a JavaScript file', "module.exports = 'SELECT * FROM ledger.balances';", 'libs/analytics/module/src/read.cjs'],
  ])("rejects another module's schema in %s", (_label, text, path = file) => {
    const found = checkSchemaOwnership(planted('analytics', path, text));
    expect(found.length).toBeGreaterThan(0);
    expect(found).toEqual(found.map(() => expect.stringMatching(new RegExp(`^${path}:\\d+: module "analytics" has SQL naming schema "ledger" \\(ledger\\)`))));
  });

  it.each([
    ['a let assigned again', "let s = 'analytics';\ns = 'ledger';\nexport const sql = `SELECT * FROM ${s}.balances`;", '${s}'],
    ['a table name built apart from its SQL', 'export function read(s: string) {\n  const t = `${s}.balances`;\n  return t;\n}', '${s}'],
  ])('rejects a schema computed at run time: %s', (_label, text, hole) => {
    expect(checkSchemaOwnership(planted('analytics', file, text))).toEqual([
      expect.stringContaining(`module "analytics" has SQL whose schema is computed at run time (${hole})`),
    ]);
  });

  it.each([
    ['SET SCHEMA', "await tx.query(`SET LOCAL SCHEMA 'ledger'`);"],
    ['set_config with a built name', "await tx.query(`SELECT set_config('search' || '_path', 'ledger', false)`);"],
  ])('rejects SQL that changes the search path another way (%s)', (_label, text) => {
    expect(checkSchemaOwnership(planted('analytics', file, text))).toEqual([
      `${file}:1: module "analytics" has SQL that changes search_path: qualify names with the module's own schema instead`,
    ]);
  });

  it('rejects an entity or inbox placed in a schema the file does not spell out', () => {
    const text = "import { LEDGER_SCHEMA } from './names';\n@Entity('balances', { schema: LEDGER_SCHEMA })\nexport class Stolen {}\nexport const m = [inboxMigration(LEDGER_SCHEMA)];\n";
    expect(checkSchemaOwnership(planted('analytics', file, text))).toEqual([
      `${file}:2: module "analytics" places tables in a schema the file does not spell out (LEDGER_SCHEMA): name the module's own schema literally`,
      `${file}:4: module "analytics" places tables in a schema the file does not spell out (LEDGER_SCHEMA): name the module's own schema literally`,
    ]);
  });

  it('rejects a table name in a contracts library, even its own module’s', () => {
    const path = 'libs/ledger/contracts/src/names.ts';
    expect(checkSchemaOwnership(planted('ledger-contracts', path, "export const LEDGER_BALANCES_TABLE = 'ledger.balances';\n"))).toEqual([
      expect.stringMatching(new RegExp(`^${path}:1: contracts "ledger-contracts" has SQL naming schema "ledger" \\(ledger\\)`)),
    ]);
  });

  it('rejects a schema named by concatenation in an entity', () => {
    const text = "@Entity({ schema: 'led' + 'ger', name: 'balances' })\nexport class Stolen {}\n";
    expect(checkSchemaOwnership(planted('analytics', file, text))).toEqual([`${file}:1: module "analytics" names schema "ledger", which belongs to ledger`]);
  });

  it('rejects an entity mapped into another schema', () => {
    const text = "@Entity({ schema: 'ledger', name: 'balances' })\nexport class Stolen {}\n";
    expect(checkSchemaOwnership(planted('analytics', file, text))).toEqual([
      `${file}:1: module "analytics" names schema "ledger", which belongs to ledger`,
    ]);
  });

  it("rejects an inbox in another module's schema", () => {
    const text = "export const migrations = [inboxMigration('ledger')];\n";
    expect(checkSchemaOwnership(planted('analytics', file, text))).toEqual([
      `${file}:1: module "analytics" names schema "ledger", which belongs to ledger`,
    ]);
  });

  it('rejects a schema that two modules declare', () => {
    const text = "export const again = defineModule({ name: 'analytics', schema: 'ledger', migrations: [] });\n";
    const found = checkSchemaOwnership(planted('analytics', 'libs/analytics/module/src/analytics.definition.ts', text));
    expect(found).toContain('schema "ledger" is declared by more than one scope: analytics, ledger');
  });

  it("rejects SQL on another module's schema in test code too, but lets tests read the outbox and declare stand-ins", () => {
    const spec = 'libs/analytics/module/src/planted.int.spec.ts';
    const text = [
      "const a = 'SELECT count(*) FROM messaging.outbox';",
      "const b = 'SELECT count(*) FROM ledger.entries';",
      "const standIn = MessagingModule.forModule(defineModule({ name: 'ledger', schema: false }));",
      '',
    ].join('\n');
    expect(checkSchemaOwnership(planted('analytics', spec, text))).toEqual([expect.stringMatching(new RegExp(`^${spec}:2: .*schema "ledger"`))]);
  });

  it('is not fooled by its own schema, event types, code or import paths', () => {
    const text = [
      "import { LedgerRepository } from './ledger.repository';",
      "const own = 'SELECT * FROM analytics.hourly';",
      "const eventType = 'ingestion.transfer-ingested';",
      "const subscriber = 'ledger.apply-transfers';",
      'const total = ledger.balance + ingestion.count;',
      "export const none = defineModule({ name: 'analytics_probe', schema: false });",
      '',
    ].join('\n');
    expect(checkSchemaOwnership(planted('analytics', file, text))).toEqual([]);
  });

  it('finds schema-qualified names the way PostgreSQL reads them', () => {
    const schemas = ['ledger', 'ingestion'];
    expect(schemaReferences('SELECT 1 FROM ledger.entries e JOIN "ingestion".transfers t ON true', schemas)).toEqual(['ingestion', 'ledger']);
    expect(schemaReferences('SELECT 1 FROM xledger.entries, public.ledger_entries, ledger', schemas)).toEqual([]);
    expect(schemaReferences('ledger."Entries"', schemas)).toEqual(['ledger']);
    expect(schemaReferences('SELECT * FROM "LEDGER".entries, "led""ger".x', schemas)).toEqual([]);
    expect(schemaReferences("SELECT 1 -- ledger.entries\n/* /* ledger.x */ */", schemas)).toEqual([]);
    // String constants and dollar bodies become SQL in EXECUTE, DO, function bodies, query_to_xml.
    expect(schemaReferences("SELECT query_to_xml('SELECT * FROM ledger.entries', true, false, '')", schemas)).toEqual(['ledger']);
    expect(schemaReferences("DO $q$ BEGIN PERFORM 1 FROM ingestion.transfers; END $q$", schemas)).toEqual(['ingestion']);
    expect(schemaReferences("SELECT name'\\', b.* FROM ledger.balances b -- '", schemas)).toEqual(['ledger']);
    expect(schemaReferences('SELECT * FROM U&"!006Cedger" UESCAPE \'!\' .balances', schemas)).toEqual(['ledger']);
    // Not SQL: a URL's host, an e-mail address, an event type.
    expect(schemaReferences("see https://ledger.example.com/x or ops@ledger.example, type 'ledger.balance-changed'", schemas)).toEqual([]);
    expect(schemaReferences('SELECT ledger.* FROM t', schemas)).toEqual(['ledger']);
  });
});

describe('in a temporary copy of the workspace', () => {
  let workspace: TempWorkspace;

  beforeAll(() => {
    workspace = TempWorkspace.copyOf(WORKSPACE_ROOT);
  }, 120_000);

  afterAll(() => workspace?.dispose());

  it('fails end to end when a module imports another module (graph computed from the planted import)', () => {
    const control = workspace.runScript('tools/scripts/verify-architecture.mjs');
    expect(control.stderr).toBe('');
    expect(control.status).toBe(0);

    workspace.write('libs/analytics/module/src/planted.ts', "import { LedgerModule } from '@modulith/ledger';\nexport const planted = LedgerModule;\n");
    const run = workspace.runScript('tools/scripts/verify-architecture.mjs');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('module "analytics" depends on module "ledger"');
  }, 120_000);
});

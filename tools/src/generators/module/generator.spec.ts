import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addProjectConfiguration, readJson, readProjectConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import * as ts from 'typescript';
import { moduleGenerator } from './generator';
import { MODULE_CATALOG_FILE } from './module-catalog';

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');
/** The catalog as the real app has it today: the generator must edit the real file, not a toy. */
const REAL_CATALOG = readFileSync(join(WORKSPACE_ROOT, MODULE_CATALOG_FILE), 'utf8');

/** A workspace with what the generator reads and edits: the root tsconfig, the app's catalog, one module. */
function seededTree(): Tree {
  const tree = createTreeWithEmptyWorkspace({ formatter: 'none' });
  tree.write(
    'tsconfig.base.json',
    JSON.stringify({ compilerOptions: { paths: { '@modulith/ledger': ['libs/ledger/module/src/index.ts'], '@modulith/core': ['libs/platform/core/src/index.ts'] } } }, null, 2),
  );
  tree.write(MODULE_CATALOG_FILE, REAL_CATALOG);
  addProjectConfiguration(tree, 'ledger', { root: 'libs/ledger/module', tags: ['type:module', 'scope:ledger'] });
  tree.write('libs/ledger/module/src/index.ts', "export { LedgerModule } from './ledger.module';\n");
  return tree;
}

function filesUnder(tree: Tree, folder: string): string[] {
  return tree.children(folder).flatMap((child) => {
    const path = `${folder}/${child}`;
    return tree.isFile(path) ? [path] : filesUnder(tree, path);
  });
}

function snapshotOf(tree: Tree): string {
  return JSON.stringify(tree.listChanges().map((change) => [change.path, change.type, change.content?.toString()]));
}

describe('module generator', () => {
  let tree: Tree;

  beforeEach(() => {
    tree = seededTree();
  });

  describe('given "invoices"', () => {
    beforeEach(async () => {
      await moduleGenerator(tree, { name: 'invoices', skipDocs: true });
    });

    it('creates a contracts and a module library shaped like the reference modules', () => {
      expect(filesUnder(tree, 'libs/invoices').sort()).toEqual(
        [
          'libs/invoices/contracts/README.md',
          'libs/invoices/contracts/jest.config.js',
          'libs/invoices/contracts/package.json',
          'libs/invoices/contracts/project.json',
          'libs/invoices/contracts/src/create-invoice.command.ts',
          'libs/invoices/contracts/src/get-invoice.query.ts',
          'libs/invoices/contracts/src/index.ts',
          'libs/invoices/contracts/src/invoice-created.event.spec.ts',
          'libs/invoices/contracts/src/invoice-created.event.ts',
          'libs/invoices/contracts/src/invoice.ts',
          'libs/invoices/contracts/tsconfig.json',
          'libs/invoices/contracts/tsconfig.lib.json',
          'libs/invoices/contracts/tsconfig.spec.json',
          'libs/invoices/module/README.md',
          'libs/invoices/module/jest.config.js',
          'libs/invoices/module/package.json',
          'libs/invoices/module/project.json',
          'libs/invoices/module/src/create-invoice/create-invoice.handler.spec.ts',
          'libs/invoices/module/src/create-invoice/create-invoice.handler.ts',
          'libs/invoices/module/src/get-invoice/get-invoice.handler.spec.ts',
          'libs/invoices/module/src/get-invoice/get-invoice.handler.ts',
          'libs/invoices/module/src/http/invoice.dto.ts',
          'libs/invoices/module/src/http/invoices.controller.ts',
          'libs/invoices/module/src/index.ts',
          'libs/invoices/module/src/invoices.definition.ts',
          'libs/invoices/module/src/migrations/0001-create-invoices.migration.ts',
          'libs/invoices/module/src/invoice.entity.ts',
          'libs/invoices/module/src/invoice.repository.ts',
          'libs/invoices/module/src/invoice.rules.spec.ts',
          'libs/invoices/module/src/invoice.rules.ts',
          'libs/invoices/module/src/invoices.int.spec.ts',
          'libs/invoices/module/src/invoices.module.ts',
          'libs/invoices/module/src/invoices.scenario.int.spec.ts',
          'libs/invoices/module/src/process-invoices/process-invoices.handler.ts',
          'libs/invoices/module/tsconfig.json',
          'libs/invoices/module/tsconfig.lib.json',
          'libs/invoices/module/tsconfig.spec.json',
        ].sort(),
      );
    });

    it('tags both projects, makes them buildable and lintable, and names their packages by their aliases', () => {
      const module = readProjectConfiguration(tree, 'invoices');
      const contracts = readProjectConfiguration(tree, 'invoices-contracts');
      expect(module.tags).toEqual(['type:module', 'scope:invoices']);
      expect(contracts.tags).toEqual(['type:contracts', 'scope:invoices']);
      expect(module.targets?.['build']).toMatchObject({
        executor: '@nx/js:tsc',
        options: { outputPath: 'dist/libs/invoices/module', main: 'libs/invoices/module/src/index.ts', tsConfig: 'libs/invoices/module/tsconfig.lib.json' },
      });
      expect(module.targets?.['lint']).toEqual({ executor: '@nx/eslint:lint' });
      expect(module.targets?.['typecheck']).toEqual({});
      expect(module.targets?.['test-int']).toEqual({});
      expect(readJson(tree, 'libs/invoices/module/package.json').name).toBe('@modulith/invoices');
      expect(readJson(tree, 'libs/invoices/contracts/package.json').name).toBe('@modulith/invoices/contracts');
      expect(tree.read('libs/invoices/module/jest.config.js', 'utf-8')).toContain("preset: '../../../jest.preset.js'");
      expect(readJson(tree, 'libs/invoices/module/tsconfig.json').extends).toBe('../../../tsconfig.base.json');
    });

    it('adds both path aliases, keeping the paths sorted', () => {
      const paths = readJson(tree, 'tsconfig.base.json').compilerOptions.paths;
      expect(paths['@modulith/invoices']).toEqual(['libs/invoices/module/src/index.ts']);
      expect(paths['@modulith/invoices/contracts']).toEqual(['libs/invoices/contracts/src/index.ts']);
      expect(Object.keys(paths)).toEqual([...Object.keys(paths)].sort());
    });

    it('registers the module in the app catalog, touching nothing else', () => {
      const catalog = tree.read(MODULE_CATALOG_FILE, 'utf-8') as string;
      expect(catalog).toContain("import { InvoicesModule } from '@modulith/invoices';\n");
      expect(catalog).toMatch(/\n {2}invoices: InvoicesModule,\n\};/);
      const removed = catalog.replace("import { InvoicesModule } from '@modulith/invoices';\n", '').replace('\n  invoices: InvoicesModule,', '');
      expect(removed).toBe(REAL_CATALOG);
    });

    it('writes the use cases, the event, the subscriber, the entity, the migration and the controller', () => {
      const read = (path: string) => tree.read(`libs/invoices/${path}`, 'utf-8') as string;
      expect(read('contracts/src/invoice-created.event.ts')).toContain("static readonly type = 'invoices.invoice-created';");
      expect(read('contracts/src/create-invoice.command.ts')).toContain('export class CreateInvoiceCommand extends Command<InvoiceView>');
      expect(read('contracts/src/get-invoice.query.ts')).toContain('export class GetInvoiceQuery extends Query<InvoiceView | null>');
      expect(read('module/src/create-invoice/create-invoice.handler.ts')).toMatch(/database\.transaction\(async \(tx\) => \{[\s\S]*insert\(tx,[\s\S]*outbox\.append\(tx, \[new InvoiceCreated/);
      expect(read('module/src/process-invoices/process-invoices.handler.ts')).toContain(
        "@OnIntegrationEvent(InvoiceCreated, { batch: 100, name: 'invoices.process-invoices' })",
      );
      expect(read('module/src/invoice.entity.ts')).toContain("@Entity({ schema: 'invoices', name: 'invoices' })");
      // Declared once; the inbox of its batch subscriber is added by the platform, not listed here.
      expect(read('module/src/invoices.definition.ts')).toContain("defineModule({\n  name: 'invoices',\n  schema: 'invoices',\n  entities: [InvoiceEntity],\n  migrations: [CreateInvoices0001],\n});");
      expect(read('module/src/migrations/0001-create-invoices.migration.ts')).toContain('CREATE TABLE invoices.invoices (');
      expect(read('module/src/http/invoices.controller.ts')).toContain("@ApiTags('invoices')\n@Controller('invoices')");
      expect(read('module/src/http/invoice.dto.ts')).toContain('export class InvoiceViewDto implements InvoiceView');
      expect(read('module/src/invoices.module.ts')).toContain('imports: [MessagingModule.forModule(invoicesDefinition)],');
      expect(read('module/README.md')).toMatch(/\*\*Purpose\*\*[\s\S]*\*\*Owns\*\*[\s\S]*\*\*Publishes\*\*[\s\S]*\*\*Consumes\*\*/);
      expect(read('module/src/index.ts')).toContain("export { InvoicesModule } from './invoices.module';");
    });

    it('leaves no template syntax behind and writes TypeScript that parses', () => {
      for (const path of filesUnder(tree, 'libs/invoices')) {
        const text = tree.read(path, 'utf-8') as string;
        expect({ path, leftover: /<%|%>|__\w+__/.test(text) }).toEqual({ path, leftover: false });
        if (!path.endsWith('.ts')) continue;
        const output = ts.transpileModule(text, { fileName: path, reportDiagnostics: true, compilerOptions: { experimentalDecorators: true } });
        expect({ path, errors: (output.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')) }).toEqual({ path, errors: [] });
      }
    });

    it('refuses to run again: the module exists, and nothing more is written', async () => {
      const before = snapshotOf(tree);
      await expect(moduleGenerator(tree, { name: 'invoices', skipDocs: true })).rejects.toThrow(
        /^Module "invoices" already exists or clashes with what is there: folder libs\/invoices exists; project "invoices" exists \(libs\/invoices\/module\); project "invoices-contracts" exists \(libs\/invoices\/contracts\); path alias "@modulith\/invoices" exists in tsconfig\.base\.json; path alias "@modulith\/invoices\/contracts" exists in tsconfig\.base\.json; apps\/api\/src\/module-catalog\.ts already lists "invoices"\. .*Nothing was written\.$/,
      );
      expect(snapshotOf(tree)).toBe(before);
    });
  });

  it('spells every name from a hyphenated module and an explicit entity', async () => {
    await moduleGenerator(tree, { name: 'fx-rates', entity: 'exchange-rate', description: 'Keeps exchange rates.', skipDocs: true });
    const read = (path: string) => tree.read(`libs/fx-rates/${path}`, 'utf-8') as string;
    expect(read('contracts/src/exchange-rate-created.event.ts')).toContain("static readonly type = 'fx-rates.exchange-rate-created';");
    expect(read('module/src/fx-rates.module.ts')).toContain('export class FxRatesModule {}');
    expect(read('module/src/fx-rates.definition.ts')).toContain("name: 'fx-rates',\n  schema: 'fx_rates',");
    expect(read('module/src/migrations/0001-create-exchange-rates.migration.ts')).toContain('CREATE TABLE fx_rates.exchange_rates (');
    expect(read('module/src/http/fx-rates.controller.ts')).toContain("@Controller('fx-rates')");
    expect(read('module/README.md')).toContain('**Purpose**: Keeps exchange rates.');
    expect(tree.read(MODULE_CATALOG_FILE, 'utf-8')).toContain("  'fx-rates': FxRatesModule,\n};");
  });

  describe('rejects, writing nothing,', () => {
    it.each([
      ['Invoices', 'Module name "Invoices" is not kebab-case'],
      ['pay_ments', 'Module name "pay_ments" is not kebab-case'],
      ['pay--ments', 'Module name "pay--ments" is not kebab-case'],
      ['1invoices', 'Module name "1invoices" is not kebab-case'],
      ['invoices-', 'Module name "invoices-" is not kebab-case'],
      ['', 'A module needs a name'],
      ['platform', 'Module name "platform" is reserved'],
      ['platform-billing', 'Module name "platform-billing" is reserved'],
      ['api', 'Module name "api" is reserved'],
      ['tools', 'Module name "tools" is reserved'],
      ['contracts', 'Module name "contracts" is reserved'],
      ['module', 'Module name "module" is reserved'],
      ['messaging', 'Module name "messaging" is reserved'],
      ['docs', 'Module name "docs" is reserved'],
      ['pg-stats', 'PostgreSQL reserves schema names starting with "pg_"'],
      ['a'.repeat(41), 'is longer than 40 characters'],
    ])('a bad name: %j', async (name, message) => {
      const before = snapshotOf(tree);
      await expect(moduleGenerator(tree, { name, skipDocs: true })).rejects.toThrow(message);
      expect(snapshotOf(tree)).toBe(before);
    });

    it('a bad entity name', async () => {
      await expect(moduleGenerator(tree, { name: 'invoices', entity: 'Invoice', skipDocs: true })).rejects.toThrow('Entity name "Invoice" is not kebab-case');
    });

    it('a taken name: an existing module', async () => {
      const before = snapshotOf(tree);
      await expect(moduleGenerator(tree, { name: 'ledger', skipDocs: true })).rejects.toThrow(
        'Module "ledger" already exists or clashes with what is there: folder libs/ledger exists; project "ledger" exists (libs/ledger/module); ' +
          'path alias "@modulith/ledger" exists in tsconfig.base.json; apps/api/src/module-catalog.ts already lists "ledger".',
      );
      expect(snapshotOf(tree)).toBe(before);
    });

    it('a name the catalog alone already has', async () => {
      await expect(moduleGenerator(tree, { name: 'analytics', skipDocs: true })).rejects.toThrow(
        'Module "analytics" already exists or clashes with what is there: apps/api/src/module-catalog.ts already lists "analytics".',
      );
    });

    it('a workspace without the app catalog', async () => {
      tree.delete(MODULE_CATALOG_FILE);
      await expect(moduleGenerator(tree, { name: 'invoices', skipDocs: true })).rejects.toThrow(
        'apps/api/src/module-catalog.ts is missing: there is no app to register the module in.',
      );
      expect(tree.exists('libs/invoices')).toBe(false);
    });
  });
});

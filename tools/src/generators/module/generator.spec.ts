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

  describe('given "payments"', () => {
    beforeEach(async () => {
      await moduleGenerator(tree, { name: 'payments', skipDocs: true });
    });

    it('creates a contracts and a module library shaped like the reference modules', () => {
      expect(filesUnder(tree, 'libs/payments').sort()).toEqual(
        [
          'libs/payments/contracts/README.md',
          'libs/payments/contracts/jest.config.js',
          'libs/payments/contracts/package.json',
          'libs/payments/contracts/project.json',
          'libs/payments/contracts/src/create-payment.command.ts',
          'libs/payments/contracts/src/get-payment.query.ts',
          'libs/payments/contracts/src/index.ts',
          'libs/payments/contracts/src/payment-created.event.spec.ts',
          'libs/payments/contracts/src/payment-created.event.ts',
          'libs/payments/contracts/src/payment.ts',
          'libs/payments/contracts/tsconfig.json',
          'libs/payments/contracts/tsconfig.lib.json',
          'libs/payments/contracts/tsconfig.spec.json',
          'libs/payments/module/README.md',
          'libs/payments/module/jest.config.js',
          'libs/payments/module/package.json',
          'libs/payments/module/project.json',
          'libs/payments/module/src/create-payment/create-payment.handler.spec.ts',
          'libs/payments/module/src/create-payment/create-payment.handler.ts',
          'libs/payments/module/src/get-payment/get-payment.handler.spec.ts',
          'libs/payments/module/src/get-payment/get-payment.handler.ts',
          'libs/payments/module/src/http/payment.dto.ts',
          'libs/payments/module/src/http/payments.controller.ts',
          'libs/payments/module/src/index.ts',
          'libs/payments/module/src/migrations/0001-create-payments.migration.ts',
          'libs/payments/module/src/payment.entity.ts',
          'libs/payments/module/src/payment.repository.ts',
          'libs/payments/module/src/payment.rules.spec.ts',
          'libs/payments/module/src/payment.rules.ts',
          'libs/payments/module/src/payments.int.spec.ts',
          'libs/payments/module/src/payments.module.ts',
          'libs/payments/module/src/payments.schema.ts',
          'libs/payments/module/src/process-payments/process-payments.handler.ts',
          'libs/payments/module/tsconfig.json',
          'libs/payments/module/tsconfig.lib.json',
          'libs/payments/module/tsconfig.spec.json',
        ].sort(),
      );
    });

    it('tags both projects, makes them buildable and lintable, and names their packages by their aliases', () => {
      const module = readProjectConfiguration(tree, 'payments');
      const contracts = readProjectConfiguration(tree, 'payments-contracts');
      expect(module.tags).toEqual(['type:module', 'scope:payments']);
      expect(contracts.tags).toEqual(['type:contracts', 'scope:payments']);
      expect(module.targets?.['build']).toMatchObject({
        executor: '@nx/js:tsc',
        options: { outputPath: 'dist/libs/payments/module', main: 'libs/payments/module/src/index.ts', tsConfig: 'libs/payments/module/tsconfig.lib.json' },
      });
      expect(module.targets?.['lint']).toEqual({ executor: '@nx/eslint:lint' });
      expect(readJson(tree, 'libs/payments/module/package.json').name).toBe('@modulith/payments');
      expect(readJson(tree, 'libs/payments/contracts/package.json').name).toBe('@modulith/payments/contracts');
      expect(tree.read('libs/payments/module/jest.config.js', 'utf-8')).toContain("preset: '../../../jest.preset.js'");
      expect(readJson(tree, 'libs/payments/module/tsconfig.json').extends).toBe('../../../tsconfig.base.json');
    });

    it('adds both path aliases, keeping the paths sorted', () => {
      const paths = readJson(tree, 'tsconfig.base.json').compilerOptions.paths;
      expect(paths['@modulith/payments']).toEqual(['libs/payments/module/src/index.ts']);
      expect(paths['@modulith/payments/contracts']).toEqual(['libs/payments/contracts/src/index.ts']);
      expect(Object.keys(paths)).toEqual([...Object.keys(paths)].sort());
    });

    it('registers the module in the app catalog, touching nothing else', () => {
      const catalog = tree.read(MODULE_CATALOG_FILE, 'utf-8') as string;
      expect(catalog).toContain("import { PaymentsModule } from '@modulith/payments';\n");
      expect(catalog).toMatch(/\n {2}payments: PaymentsModule,\n\};/);
      const removed = catalog.replace("import { PaymentsModule } from '@modulith/payments';\n", '').replace('\n  payments: PaymentsModule,', '');
      expect(removed).toBe(REAL_CATALOG);
    });

    it('writes the use cases, the event, the subscriber, the entity, the migration and the controller', () => {
      const read = (path: string) => tree.read(`libs/payments/${path}`, 'utf-8') as string;
      expect(read('contracts/src/payment-created.event.ts')).toContain("static readonly type = 'payments.payment-created';");
      expect(read('contracts/src/create-payment.command.ts')).toContain('export class CreatePaymentCommand extends Command<PaymentView>');
      expect(read('contracts/src/get-payment.query.ts')).toContain('export class GetPaymentQuery extends Query<PaymentView | null>');
      expect(read('module/src/create-payment/create-payment.handler.ts')).toMatch(/database\.transaction\(async \(tx\) => \{[\s\S]*insert\(tx,[\s\S]*outbox\.append\(tx, \[new PaymentCreated/);
      expect(read('module/src/process-payments/process-payments.handler.ts')).toContain(
        "@OnIntegrationEvent(PaymentCreated, { batch: 100, name: 'payments.process-payments' })",
      );
      expect(read('module/src/payment.entity.ts')).toContain("@Entity({ schema: 'payments', name: 'payments' })");
      expect(read('module/src/payments.schema.ts')).toContain("migrations: [inboxMigration('payments'), CreatePayments0001]");
      expect(read('module/src/migrations/0001-create-payments.migration.ts')).toContain('CREATE TABLE payments.payments (');
      expect(read('module/src/http/payments.controller.ts')).toContain("@ApiTags('payments')\n@Controller('payments')");
      expect(read('module/src/http/payment.dto.ts')).toContain('export class PaymentViewDto implements PaymentView');
      expect(read('module/src/payments.module.ts')).toContain("MessagingModule.forModule({ module: 'payments', schema: 'payments' })");
      expect(read('module/README.md')).toMatch(/\*\*Purpose\*\*[\s\S]*\*\*Owns\*\*[\s\S]*\*\*Publishes\*\*[\s\S]*\*\*Consumes\*\*/);
      expect(read('module/src/index.ts')).toContain("export { PaymentsModule } from './payments.module';");
    });

    it('leaves no template syntax behind and writes TypeScript that parses', () => {
      for (const path of filesUnder(tree, 'libs/payments')) {
        const text = tree.read(path, 'utf-8') as string;
        expect({ path, leftover: /<%|%>|__\w+__/.test(text) }).toEqual({ path, leftover: false });
        if (!path.endsWith('.ts')) continue;
        const output = ts.transpileModule(text, { fileName: path, reportDiagnostics: true, compilerOptions: { experimentalDecorators: true } });
        expect({ path, errors: (output.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')) }).toEqual({ path, errors: [] });
      }
    });

    it('refuses to run again: the module exists, and nothing more is written', async () => {
      const before = snapshotOf(tree);
      await expect(moduleGenerator(tree, { name: 'payments', skipDocs: true })).rejects.toThrow(
        /^Module "payments" already exists or clashes with what is there: folder libs\/payments exists; project "payments" exists \(libs\/payments\/module\); project "payments-contracts" exists \(libs\/payments\/contracts\); path alias "@modulith\/payments" exists in tsconfig\.base\.json; path alias "@modulith\/payments\/contracts" exists in tsconfig\.base\.json; apps\/api\/src\/module-catalog\.ts already lists "payments"\. .*Nothing was written\.$/,
      );
      expect(snapshotOf(tree)).toBe(before);
    });
  });

  it('spells every name from a hyphenated module and an explicit entity', async () => {
    await moduleGenerator(tree, { name: 'fx-rates', entity: 'exchange-rate', description: 'Keeps exchange rates.', skipDocs: true });
    const read = (path: string) => tree.read(`libs/fx-rates/${path}`, 'utf-8') as string;
    expect(read('contracts/src/exchange-rate-created.event.ts')).toContain("static readonly type = 'fx-rates.exchange-rate-created';");
    expect(read('module/src/fx-rates.module.ts')).toContain('export class FxRatesModule {}');
    expect(read('module/src/fx-rates.schema.ts')).toContain("schema: 'fx_rates',");
    expect(read('module/src/migrations/0001-create-exchange-rates.migration.ts')).toContain('CREATE TABLE fx_rates.exchange_rates (');
    expect(read('module/src/http/fx-rates.controller.ts')).toContain("@Controller('fx-rates')");
    expect(read('module/README.md')).toContain('**Purpose**: Keeps exchange rates.');
    expect(tree.read(MODULE_CATALOG_FILE, 'utf-8')).toContain("  'fx-rates': FxRatesModule,\n};");
  });

  describe('rejects, writing nothing,', () => {
    it.each([
      ['Payments', 'Module name "Payments" is not kebab-case'],
      ['pay_ments', 'Module name "pay_ments" is not kebab-case'],
      ['pay--ments', 'Module name "pay--ments" is not kebab-case'],
      ['1payments', 'Module name "1payments" is not kebab-case'],
      ['payments-', 'Module name "payments-" is not kebab-case'],
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
      await expect(moduleGenerator(tree, { name: 'payments', entity: 'Payment', skipDocs: true })).rejects.toThrow('Entity name "Payment" is not kebab-case');
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
      await expect(moduleGenerator(tree, { name: 'payments', skipDocs: true })).rejects.toThrow(
        'apps/api/src/module-catalog.ts is missing: there is no app to register the module in.',
      );
      expect(tree.exists('libs/payments')).toBe(false);
    });
  });
});

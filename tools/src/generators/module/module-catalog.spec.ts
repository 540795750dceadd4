import { catalogModules, ModuleCatalogError, registerInCatalog } from './module-catalog';

const payments = { name: 'payments', className: 'PaymentsModule', alias: '@modulith/payments' };

describe('module catalog edit', () => {
  it('given a multi-line catalog with a trailing comma, appends the entry and sorts the import in', () => {
    const source = [
      "import type { Type } from '@nestjs/common';",
      "import { AlphaModule } from '@modulith/alpha';",
      "import { ZuluModule } from '@modulith/zulu';",
      '',
      'export const MODULE_CATALOG: Readonly<Record<string, Type>> = {',
      '  zulu: ZuluModule,',
      '  alpha: AlphaModule,',
      '};',
      '',
    ].join('\n');
    expect(registerInCatalog(source, payments)).toBe(
      [
        "import type { Type } from '@nestjs/common';",
        "import { AlphaModule } from '@modulith/alpha';",
        "import { PaymentsModule } from '@modulith/payments';",
        "import { ZuluModule } from '@modulith/zulu';",
        '',
        'export const MODULE_CATALOG: Readonly<Record<string, Type>> = {',
        '  zulu: ZuluModule,',
        '  alpha: AlphaModule,',
        '  payments: PaymentsModule,',
        '};',
        '',
      ].join('\n'),
    );
  });

  it('given no trailing comma, one line, "as const" or an empty catalog, keeps the style', () => {
    expect(registerInCatalog("import { A } from '@modulith/a';\nconst MODULE_CATALOG = { a: A } as const;\n", payments)).toBe(
      "import { A } from '@modulith/a';\nimport { PaymentsModule } from '@modulith/payments';\nconst MODULE_CATALOG = { a: A, payments: PaymentsModule } as const;\n",
    );
    expect(registerInCatalog("import { A } from '@modulith/a';\nconst MODULE_CATALOG = {\n    a: A\n};\n", payments)).toBe(
      "import { A } from '@modulith/a';\nimport { PaymentsModule } from '@modulith/payments';\nconst MODULE_CATALOG = {\n    a: A,\n    payments: PaymentsModule\n};\n",
    );
    expect(registerInCatalog("import type { Type } from '@nestjs/common';\nexport const MODULE_CATALOG: Record<string, Type> = {};\n", payments)).toBe(
      "import type { Type } from '@nestjs/common';\nimport { PaymentsModule } from '@modulith/payments';\nexport const MODULE_CATALOG: Record<string, Type> = {\n  payments: PaymentsModule,\n};\n",
    );
  });

  it('quotes a hyphenated key', () => {
    const edited = registerInCatalog("const MODULE_CATALOG = {\n  a: A,\n};\n", { name: 'fx-rates', className: 'FxRatesModule', alias: '@modulith/fx-rates' });
    expect(edited).toContain("  'fx-rates': FxRatesModule,\n};");
    expect(catalogModules(edited)).toEqual(['a', 'fx-rates']);
  });

  it('refuses a catalog it cannot find, a name it already lists and a class it already imports', () => {
    expect(() => registerInCatalog('export const modules = [];\n', payments)).toThrow(ModuleCatalogError);
    expect(() => registerInCatalog('export const modules = [];\n', payments)).toThrow('has no "const MODULE_CATALOG = { ... }" object literal');
    expect(() => registerInCatalog("const MODULE_CATALOG = { payments: Other };\n", payments)).toThrow('already lists a module named "payments"');
    expect(() => registerInCatalog("import { PaymentsModule } from './x';\nconst MODULE_CATALOG = {};\n", payments)).toThrow('already imports PaymentsModule');
  });
});

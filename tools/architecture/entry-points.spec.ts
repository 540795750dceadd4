import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { forbiddenPackages, reachedPackages, runtimeImports } from './import-graph';

/**
 * `@modulith/messaging/events` is what contracts libraries import: whatever it loads, every
 * module, tool and client that reads a contract loads too. Its import graph (files, then packages
 * and their dependencies) must reach no Nest, TypeORM, pg or Redis.
 */

const WORKSPACE_ROOT = join(__dirname, '..', '..');
const FORBIDDEN = ['@nestjs/', 'typeorm', '@nestjs/typeorm', 'ioredis', 'pg'];
const EVENTS_ENTRY = 'libs/platform/messaging/src/events.ts';

const names = (found: { name: string }[]) => found.map((entry) => entry.name).sort();

describe('@modulith/messaging/events stays free of Nest, TypeORM and Redis', () => {
  it('reaches none of them from its entry point', () => {
    const reached = reachedPackages(WORKSPACE_ROOT, EVENTS_ENTRY);
    expect(names(reached)).toContain('@sinclair/typebox');
    expect(forbiddenPackages(reached, FORBIDDEN)).toEqual([]);
  });

  it('control: the walk does find them from the main entry point, and names the chain', () => {
    const found = forbiddenPackages(reachedPackages(WORKSPACE_ROOT, 'libs/platform/messaging/src/index.ts'), FORBIDDEN);
    expect(names(found)).toEqual(expect.arrayContaining(['@nestjs/common', 'ioredis', 'typeorm']));
    expect(found.find((entry) => entry.name === 'ioredis')?.chain[0]).toBe('libs/platform/messaging/src/index.ts');
  });

  describe('on planted files', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'import-graph-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const plant = (files: Record<string, string>) => {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      return relative(WORKSPACE_ROOT, join(dir, 'entry.ts'));
    };

    it('fails on a value import two files away, and through a package that depends on one', () => {
      const entry = plant({
        'entry.ts': `export { helper } from './helper';\n`,
        'helper.ts': `import { Injectable } from '@nestjs/common';\nexport const helper = Injectable;\n`,
      });
      const found = forbiddenPackages(reachedPackages(WORKSPACE_ROOT, entry), FORBIDDEN);
      expect(found.map((entry) => entry.chain.slice(1))).toContainEqual([relative(WORKSPACE_ROOT, join(dir, 'helper.ts')), '@nestjs/common']);
      // nestjs-pino is allowed by name, but it loads @nestjs/common and @nestjs/core.
      const viaPackage = plant({ 'entry.ts': `import { LoggerModule } from 'nestjs-pino';\nexport const m = LoggerModule;\n` });
      const loaded = forbiddenPackages(reachedPackages(WORKSPACE_ROOT, viaPackage), FORBIDDEN);
      expect(names(loaded)).toEqual(expect.arrayContaining(['@nestjs/common', '@nestjs/core']));
      expect(loaded.find((entry) => entry.name === '@nestjs/common')?.chain.slice(1)).toEqual(['nestjs-pino', '@nestjs/common']);
    });

    it('passes type-only imports (erased at compile time)', () => {
      const entry = plant({ 'entry.ts': `import type { DataSource } from 'typeorm';\nexport { type Redis } from 'ioredis';\nexport type Source = DataSource;\n` });
      expect(forbiddenPackages(reachedPackages(WORKSPACE_ROOT, entry), FORBIDDEN)).toEqual([]);
    });
  });

  it('reads value imports, re-exports, require and import() but not type-only ones', () => {
    const source = [
      `import a from 'a';`,
      `import { type B } from 'b';`,
      `import type { C } from 'c';`,
      `import { type D, e } from 'd';`,
      `export * from 'f';`,
      `export type { G } from 'g';`,
      `const h = require('h');`,
      `const i = import('i');`,
    ].join('\n');
    expect(runtimeImports(source).sort()).toEqual(['a', 'd', 'f', 'h', 'i']);
  });
});

import { join } from 'node:path';
import { LintResult, ProjectFixture, TempWorkspace } from './temp-workspace';

/**
 * Proves that every boundary rule in eslint.config.mjs can fail (and that the real workspace
 * passes them): each case plants one forbidden import in a temporary copy of the workspace,
 * recomputes the Nx project graph there and runs ESLint on the planted file.
 *
 * Each case gets a graph of its own so that planted imports never combine into a cycle: the rule
 * reports a cycle instead of the tag violation, which would hide the rule under test.
 */

const WORKSPACE_ROOT = join(__dirname, '..', '..');
const BOUNDARY_RULES = new Set(['@nx/enforce-module-boundaries', 'no-restricted-imports']);
const TAGS = '@nx/enforce-module-boundaries';
/** Also the contracts libraries' import rule (the same ESLint rule, with more patterns there). */
const DEEP = 'no-restricted-imports';

interface Finding {
  file: string;
  line: number;
  ruleId: string;
  message: string;
}

interface Case {
  name: string;
  file: string;
  source: string;
  expected: { line: number; ruleId: string; message: string }[];
}

/** Throwaway projects that exist only in the copy. `demo` is a leaf module: nothing reaches back. */
const FIXTURES: (ProjectFixture & { alias?: string })[] = [
  { root: 'libs/demo/module', name: 'demo', tags: ['type:module', 'scope:demo'], alias: '@modulith/demo' },
  { root: 'libs/demo/tool', name: 'demo-tool', tags: ['type:tool', 'scope:demo'], alias: '@modulith/demo-tool' },
  { root: 'libs/demo/untagged', name: 'demo-untagged', tags: [] },
  { root: 'apps/demo-app', name: 'demo-app', tags: ['type:app', 'scope:demo'], projectType: 'application' },
];

const onlyTags = (source: string, allowed: string) =>
  `A project tagged with "${source}" can only depend on libs tagged with ${allowed}`;

const FORBIDDEN: Case[] = [
  {
    name: 'module → another module',
    file: 'libs/demo/module/src/planted.ts',
    source: `import * as ingestion from '@modulith/ingestion';\nexport const planted = ingestion;\n`,
    expected: [{ line: 1, ruleId: TAGS, message: onlyTags('type:module', '"type:contracts", "type:platform"') }],
  },
  {
    name: 'contracts → module',
    file: 'libs/ingestion/contracts/src/planted.ts',
    source: `import * as demo from '@modulith/demo';\nexport const planted = demo;\n`,
    expected: [{ line: 1, ruleId: TAGS, message: onlyTags('type:contracts', '"type:platform"') }],
  },
  {
    name: 'platform → module',
    file: 'libs/platform/core/src/planted.ts',
    source: `import * as demo from '@modulith/demo';\nexport const planted = demo;\n`,
    expected: [{ line: 1, ruleId: TAGS, message: onlyTags('type:platform', '"type:platform"') }],
  },
  {
    name: 'app → tool',
    file: 'apps/demo-app/src/planted.ts',
    source: `import * as tool from '@modulith/demo-tool';\nexport const planted = tool;\n`,
    expected: [
      { line: 1, ruleId: TAGS, message: onlyTags('type:app', '"type:module", "type:contracts", "type:platform"') },
    ],
  },
  {
    name: 'tool → module',
    file: 'tools/architecture/planted.ts',
    source: `import * as demo from '@modulith/demo';\nexport const planted = demo;\n`,
    expected: [{ line: 1, ruleId: TAGS, message: onlyTags('type:tool', '"type:tool", "type:platform"') }],
  },
  {
    name: 'production code → the test kit',
    file: 'libs/demo/module/src/planted.ts',
    source: [
      `import { freePort } from '@modulith/testing';`,
      `import { databaseTestConfig } from '@modulith/database/testing';`,
      `import * as messagingTesting from '@modulith/messaging/testing';`,
      `export const planted = [freePort, databaseTestConfig, messagingTesting];`,
      ``,
    ].join('\n'),
    expected: [
      { line: 1, ruleId: DEEP, message: 'The test kit in production code' },
      { line: 2, ruleId: DEEP, message: 'The test kit in production code' },
      { line: 3, ruleId: DEEP, message: 'The test kit in production code' },
    ],
  },
  {
    name: 'the test kit → platform',
    file: 'libs/platform/testing/src/planted.ts',
    source: `import * as core from '@modulith/core';\nexport const planted = core;\n`,
    expected: [{ line: 1, ruleId: TAGS, message: onlyTags('type:testing', '"type:testing"') }],
  },
  {
    name: 'deep import into another library',
    file: 'libs/demo/module/src/planted.ts',
    source: [
      `import * as internals from '@modulith/ingestion/src/ingestion.module';`,
      `import * as events from '@modulith/ingestion/contracts/src/index';`,
      `export const planted = [internals, events];`,
      ``,
    ].join('\n'),
    expected: [
      { line: 1, ruleId: DEEP, message: 'Deep import into another library' },
      { line: 2, ruleId: DEEP, message: 'Deep import into another library' },
    ],
  },
  {
    name: 'contracts → a messaging entry point other than /events',
    file: 'libs/ingestion/contracts/src/planted.ts',
    source: [
      `import { Outbox } from '@modulith/messaging';`,
      `import { DeadLetters } from '@modulith/messaging/operator';`,
      `import { Database } from '@modulith/database';`,
      `export const planted = [Outbox, DeadLetters, Database];`,
      ``,
    ].join('\n'),
    expected: [1, 2, 3].map((line) => ({ line, ruleId: DEEP, message: 'A contracts library imports only @modulith/core and @modulith/messaging/events' })),
  },
  {
    name: 'contracts → Nest, TypeORM, Redis',
    file: 'libs/ingestion/contracts/src/planted.ts',
    source: [
      `import { Injectable } from '@nestjs/common';`,
      `import { DataSource } from 'typeorm';`,
      `import Redis from 'ioredis';`,
      `export const planted = [Injectable, DataSource, Redis];`,
      ``,
    ].join('\n'),
    expected: [1, 2, 3].map((line) => ({ line, ruleId: DEEP, message: 'A contracts library stays free of Nest' })),
  },
  {
    name: 'relative import across project roots',
    file: 'libs/demo/module/src/planted.ts',
    source: `import * as core from '../../../platform/core/src/index';\nexport const planted = core;\n`,
    expected: [{ line: 1, ruleId: TAGS, message: 'Projects cannot be imported by a relative or absolute path' }],
  },
  {
    name: 'project without tags',
    file: 'libs/demo/untagged/src/planted.ts',
    source: `import * as core from '@modulith/core';\nexport const planted = core;\n`,
    expected: [
      {
        line: 1,
        ruleId: TAGS,
        message: 'A project without tags matching at least one constraint cannot depend on any libraries',
      },
    ],
  },
];

function findings(results: LintResult[]): Finding[] {
  return results.flatMap((result) =>
    result.messages
      .filter((m) => m.fatal || (m.ruleId !== null && BOUNDARY_RULES.has(m.ruleId)))
      .map((m) => ({
        file: result.file,
        line: m.line,
        ruleId: m.ruleId ?? 'fatal',
        message: m.message.split('\n')[0],
      })),
  );
}

describe('module boundaries (eslint.config.mjs)', () => {
  let workspace: TempWorkspace;

  /** Plants files, lints them against a fresh project graph, then removes them again. */
  function lintPlanted(files: Record<string, string>): Finding[] {
    for (const [file, source] of Object.entries(files)) workspace.write(file, source);
    try {
      const projects = workspace.computeProjectGraph();
      expect(projects).toEqual(expect.arrayContaining(FIXTURES.map((f) => f.name)));
      const run = workspace.lint(Object.keys(files));
      expect(run.stdout).not.toContain('No cached ProjectGraph');
      expect(run.results.map((r) => r.file).sort()).toEqual(Object.keys(files).sort());
      return findings(run.results);
    } finally {
      for (const file of Object.keys(files)) workspace.remove(file);
    }
  }

  beforeAll(() => {
    workspace = TempWorkspace.copyOf(WORKSPACE_ROOT);
  }, 120_000);

  afterAll(() => workspace?.dispose());

  it('control: the unmodified workspace breaks no boundary rule', () => {
    const projects = workspace.computeProjectGraph();
    expect(projects.sort()).toEqual(workspace.declaredProjects().sort());

    const run = workspace.lint(['.']);
    expect(run.stdout).not.toContain('No cached ProjectGraph');
    const linted = new Set(run.results.map((r) => r.file));
    const sources = workspace.filesUnder(['apps', 'libs', 'tools'], '.ts');
    expect(sources.filter((file) => !linted.has(file))).toEqual([]);
    expect(findings(run.results)).toEqual([]);
  }, 120_000);

  describe('with throwaway projects in the copy', () => {
    beforeAll(() => {
      for (const fixture of FIXTURES) {
        workspace.addProject({ ...fixture, buildable: fixture.projectType !== 'application' });
        if (fixture.alias) workspace.addPathAlias(fixture.alias, `${fixture.root}/src/index.ts`);
      }
      // The ingestion libraries may not have entry points yet; stand-ins in the copy only.
      for (const entry of ['libs/ingestion/module/src/index.ts', 'libs/ingestion/contracts/src/index.ts']) {
        if (!workspace.exists(entry)) workspace.write(entry, 'export const standIn = true;\n');
      }
    });

    it('allows module → contracts and platform, app → module, and contracts → core, messaging/events and @nestjs/cqrs, and a test → the test kit', () => {
      const found = lintPlanted({
        'libs/ingestion/contracts/src/allowed.ts': [
          `import { ValidationError } from '@modulith/core';`,
          `import { IntegrationEvent } from '@modulith/messaging/events';`,
          `import { Query } from '@nestjs/cqrs';`,
          `export const allowed = [ValidationError, IntegrationEvent, Query];`,
          ``,
        ].join('\n'),
        'libs/demo/module/src/allowed.spec.ts': `import { freePort } from '@modulith/testing';\nexport const allowed = freePort;\n`,
        'libs/demo/module/src/allowed.ts': [
          `import * as contracts from '@modulith/ingestion/contracts';`,
          `import * as core from '@modulith/core';`,
          `export const allowed = [contracts, core];`,
          ``,
        ].join('\n'),
        'apps/demo-app/src/allowed.ts': `import * as demo from '@modulith/demo';\nexport const allowed = demo;\n`,
      });
      expect(found).toEqual([]);
    }, 60_000);

    it.each(FORBIDDEN)('rejects $name', ({ file, source, expected }) => {
      const found = lintPlanted({ [file]: source });
      for (const e of expected) {
        expect(found).toContainEqual({ file, line: e.line, ruleId: e.ruleId, message: expect.stringContaining(e.message) });
      }
    }, 60_000);
  });
});

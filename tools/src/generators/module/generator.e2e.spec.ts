import type { SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { createTestDatabase, eventually, startAppProcess, type AppProcess, type TestDatabase } from '@modulith/testing';
import { TempWorkspace } from '../../../architecture/temp-workspace';

/**
 * The generator for real: `nx g @modulith/tools:module invoices` in a temporary copy of the
 * workspace, then — with no hand edit — the new projects lint, type-check, test and build, the app
 * lints, type-checks and builds with them, the architecture checks and the generated docs agree,
 * and the built app serves and documents the new endpoints.
 *
 * The app's own test suite (minutes of topology, fault and load tests) runs here only with
 * GENERATOR_E2E_APP_TESTS=1; `npm test` runs it in the real workspace anyway.
 */

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');
const PLUGIN_ALIAS = '@modulith/tools';
const WITH_APP_TESTS = process.env['GENERATOR_E2E_APP_TESTS'] === '1';

/** What a run printed, without colours (under `nx run` the environment asks for them). */
function output(run: SpawnSyncReturns<string>): string {
  // eslint-disable-next-line no-control-regex
  return `${run.stdout ?? ''}\n${run.stderr ?? ''}`.replace(/\u001b\[[0-9;]*m/g, '');
}

/** Fails with what matters of a failed run: the lines naming failures, then the end of its output. */
function expectSuccess(run: SpawnSyncReturns<string>, what: string): void {
  if (run.status === 0) return;
  const text = output(run);
  const failures = text.split('\n').filter((line) => /●|✕|FAIL|Failed tasks|^\s+- \S+:\S+|error/i.test(line));
  throw new Error(`${what} failed (exit ${run.status ?? run.signal}):\n${failures.slice(0, 80).join('\n')}\n…\n${text.slice(-3000)}`);
}

interface Operation {
  summary?: string;
  tags?: string[];
  operationId?: string;
  responses?: Record<string, unknown>;
  parameters?: { name: string; in: string }[];
}

interface InvoiceBody {
  id: string;
  name: string;
  createdAt: string;
  processedAt: string | null;
}

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

describe('nx g @modulith/tools:module invoices (in a temporary copy of the workspace)', () => {
  let workspace: TempWorkspace;

  beforeAll(() => {
    workspace = TempWorkspace.copyOf(WORKSPACE_ROOT, 'modulith-generator-');
    const tsconfig = JSON.parse(workspace.read('tsconfig.base.json'));
    if (!tsconfig.compilerOptions.paths[PLUGIN_ALIAS]) {
      // Nx finds a local plugin through its path alias; until the root tsconfig carries it, the copy gets it.
      console.warn(`tsconfig.base.json has no "${PLUGIN_ALIAS}" path alias yet: added in the temporary copy only`);
      workspace.addPathAlias(PLUGIN_ALIAS, 'tools/src/index.ts');
    }
  }, 120_000);

  afterAll(() => workspace?.dispose());

  it('refuses a bad name and writes nothing on --dry-run', () => {
    const bad = workspace.nx(['g', '@modulith/tools:module', 'Invoices', '--no-interactive']);
    expect(bad.status).not.toBe(0);
    expect(output(bad)).toContain('Module name "Invoices" is not kebab-case');

    const dry = workspace.nx(['g', '@modulith/tools:module', 'invoices', '--dry-run', '--no-interactive']);
    expectSuccess(dry, 'nx g --dry-run');
    expect(output(dry)).toContain('CREATE libs/invoices/module/src/invoices.module.ts');
    expect(output(dry)).toContain('UPDATE apps/api/src/module-catalog.ts');
    expect(workspace.exists('libs/invoices')).toBe(false);
  }, 120_000);

  it('generates the module, registers it, regenerates the docs, and refuses to run twice', () => {
    const run = workspace.nx(['g', '@modulith/tools:module', 'invoices', '--no-interactive']);
    expectSuccess(run, 'nx g @modulith/tools:module invoices');
    expect(workspace.exists('libs/invoices/module/src/invoices.module.ts')).toBe(true);
    expect(workspace.read('apps/api/src/module-catalog.ts')).toContain('invoices: InvoicesModule,');
    expect(workspace.read('docs/architecture.md')).toContain('m_invoices -->|publishes| e_invoices_contracts_InvoiceCreated');
    expect(JSON.parse(workspace.read('contracts/invoices.invoice-created/v1.schema.json'))).toMatchObject({ title: 'InvoiceCreated v1', required: ['invoiceId', 'name'] });

    const again = workspace.nx(['g', '@modulith/tools:module', 'invoices', '--no-interactive']);
    expect(again.status).not.toBe(0);
    expect(output(again)).toContain('Module "invoices" already exists');
  }, 120_000);

  it('passes the architecture checks and the docs check with the new module', () => {
    expectSuccess(workspace.runScript('tools/scripts/verify-architecture.mjs'), 'verify-architecture');
    expectSuccess(workspace.runScript('tools/scripts/architecture-docs.mjs', ['--check']), 'architecture-docs --check');
  }, 120_000);

  it(`lints, type-checks, tests and builds the new projects, and lints, type-checks${WITH_APP_TESTS ? ', tests' : ''} and builds the app`, () => {
    const nx = (targets: string[], projects: string[]) =>
      workspace.nx(['run-many', '-t', ...targets, '-p', ...projects, '--output-style=static', '--skip-nx-cache'], 600_000);
    const modules = nx(['lint', 'typecheck', 'test', 'test-int', 'build'], ['invoices', 'invoices-contracts']);
    expectSuccess(modules, 'nx run-many -t lint typecheck test test-int build -p invoices invoices-contracts');
    expect(output(modules)).toContain('invoices.int.spec.ts');
    expect(output(modules)).toContain('invoices.scenario.int.spec.ts');
    // run-many skips a project without the target: the commands show both were type-checked.
    expect(output(modules)).toContain('tsc -p libs/invoices/module/tsconfig.spec.json --noEmit');
    expect(output(modules)).toContain('tsc -p libs/invoices/contracts/tsconfig.spec.json --noEmit');
    const app = nx(WITH_APP_TESTS ? ['lint', 'typecheck', 'test', 'test-int', 'e2e', 'build'] : ['lint', 'typecheck', 'build'], ['api']);
    expectSuccess(app, `nx run-many -t lint typecheck${WITH_APP_TESTS ? ' test test-int e2e' : ''} build -p api`);
  }, 660_000);

  describe('the built app', () => {
    let database: TestDatabase;
    let app: AppProcess | undefined;
    let baseUrl = '';

    beforeAll(async () => {
      database = await createTestDatabase('generator_e2e');
      app = await startAppProcess({
        main: join(workspace.root, 'dist/apps/api/main.js'),
        cwd: workspace.root,
        name: 'the generated app',
        env: { ...workspace.env(), DATABASE_URL: database.url, LOG_FORMAT: 'json' },
      });
      baseUrl = app.baseUrl;
    }, 90_000);

    afterAll(async () => {
      await app?.stop();
      await database?.drop();
    }, 60_000);

    it('runs the new module and answers its endpoints', async () => {
      expect((await json<{ modules: string[] }>(await fetch(`${baseUrl}/health`))).modules).toContain('invoices');

      const created = await fetch(`${baseUrl}/invoices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'first' }) });
      expect(created.status).toBe(201);
      const invoice = await json<InvoiceBody>(created);
      expect(invoice).toMatchObject({ name: 'first', processedAt: null });

      const read = await fetch(`${baseUrl}/invoices/${invoice.id}`);
      expect(read.status).toBe(200);
      expect(await json(read)).toMatchObject({ id: invoice.id, name: 'first' });

      // The subscriber ran: InvoiceCreated went through the outbox, the relay and the inbox.
      const processed = await eventually(
        async () => {
          const body = await json<InvoiceBody>(await fetch(`${baseUrl}/invoices/${invoice.id}`));
          return body.processedAt ? body : undefined;
        },
        { message: 'the subscriber to process the invoice', timeoutMs: 30_000, pollMs: 100 },
      );
      expect(Date.parse(processed.processedAt as string)).toBeGreaterThanOrEqual(Date.parse(processed.createdAt));

      const invalid = await fetch(`${baseUrl}/invoices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 42 }) });
      expect(invalid.status).toBe(400);
      expect(await json(invalid)).toMatchObject({ field: 'name', message: expect.stringContaining('name:') });
      expect((await fetch(`${baseUrl}/invoices/not-a-uuid`)).status).toBe(400);
      expect((await fetch(`${baseUrl}/invoices/0190a6e0-0000-7000-8000-000000000001`)).status).toBe(404);
    }, 60_000);

    it('documents the new endpoints in the OpenAPI document, like the reference modules', async () => {
      const document = await json<{ paths: Record<string, Record<string, Operation>> }>(await fetch(`${baseUrl}/docs-json`));
      const create = document.paths['/invoices']?.['post'];
      const read = document.paths['/invoices/{id}']?.['get'];
      for (const operation of [create, read]) {
        expect(operation).toMatchObject({ summary: expect.any(String), tags: ['invoices'] });
      }
      expect(Object.keys(create?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400']));
      expect(Object.keys(read?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '404']));
      expect(read?.parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path' }));
      const methods = new Set(['get', 'put', 'post', 'delete', 'patch']);
      const ids = Object.values(document.paths).flatMap((item) =>
        Object.entries(item)
          .filter(([method]) => methods.has(method))
          .map(([, operation]) => operation.operationId),
      );
      expect(new Set(ids).size).toBe(ids.length);
    }, 30_000);
  });
});

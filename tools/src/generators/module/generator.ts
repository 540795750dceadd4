import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  addProjectConfiguration,
  generateFiles,
  getProjects,
  logger,
  readJson,
  updateJson,
  type GeneratorCallback,
  type ProjectConfiguration,
  type Tree,
} from '@nx/devkit';
import { addToCoreGroup } from './deployment-groups';
import { catalogModules, MODULE_CATALOG_FILE, registerInCatalog } from './module-catalog';
import { moduleNames, type ModuleNames } from './names';
import type { ModuleGeneratorSchema } from './schema';

const ROOT_TSCONFIG = 'tsconfig.base.json';
const DOCS_SCRIPT = 'tools/scripts/architecture-docs.mjs';
const CONTRACTS_SCRIPT = 'tools/scripts/contracts.mjs';

/** Thrown when the module cannot be generated; nothing has been written when it is. */
export class ModuleGeneratorError extends Error {}

interface TsConfig {
  compilerOptions?: { paths?: Record<string, string[]> };
}

/** Why `names` cannot be generated here: the folder, a project, an alias or a catalog entry is taken. */
function conflicts(tree: Tree, names: ModuleNames, catalog: string): string[] {
  const reasons: string[] = [];
  if (tree.exists(`libs/${names.name}`)) reasons.push(`folder libs/${names.name} exists`);
  const projects = getProjects(tree);
  for (const project of [names.projects.module, names.projects.contracts]) {
    if (projects.has(project)) reasons.push(`project "${project}" exists (${projects.get(project)?.root})`);
  }
  const paths = readJson<TsConfig>(tree, ROOT_TSCONFIG).compilerOptions?.paths ?? {};
  for (const alias of [names.aliases.module, names.aliases.contracts]) {
    if (paths[alias]) reasons.push(`path alias "${alias}" exists in ${ROOT_TSCONFIG}`);
  }
  if (catalogModules(catalog).includes(names.name)) reasons.push(`${MODULE_CATALOG_FILE} already lists "${names.name}"`);
  return reasons;
}

function libraryProject(root: string, tags: string[]): ProjectConfiguration {
  return {
    root,
    sourceRoot: `${root}/src`,
    projectType: 'library',
    tags,
    targets: {
      build: {
        executor: '@nx/js:tsc',
        outputs: ['{options.outputPath}'],
        options: {
          outputPath: `dist/${root}`,
          main: `${root}/src/index.ts`,
          tsConfig: `${root}/tsconfig.lib.json`,
          rootDir: `${root}/src`,
          generatePackageJson: false,
        },
      },
      lint: { executor: '@nx/eslint:lint' },
      // `test` (unit) is inferred from jest.config.js; `typecheck` and `test-int` are defined in nx.json's targetDefaults.
      typecheck: {},
      'test-int': {},
    },
  };
}

function templateValues(names: ModuleNames, description: string): Record<string, string> {
  const { entity, event } = names;
  return {
    tmpl: '',
    name: names.name,
    className: names.className,
    propertyName: names.propertyName,
    schema: names.schema,
    entityFileName: entity.fileName,
    Entity: entity.className,
    entity: entity.propertyName,
    ENTITY: entity.fileName.replace(/-/g, '_').toUpperCase(),
    entitiesFileName: entity.pluralFileName,
    Entities: entity.pluralClassName,
    entities: entity.pluralPropertyName,
    table: entity.table,
    Event: event.className,
    eventFileName: event.fileName,
    eventType: event.type,
    moduleAlias: names.aliases.module,
    contractsAlias: names.aliases.contracts,
    moduleProject: names.projects.module,
    contractsProject: names.projects.contracts,
    description,
    offsetFromRoot: '../../../',
  };
}

function sortedPaths(paths: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Regenerates docs/architecture.md in the real workspace, after Nx has written the files. */
function regenerateDocs(root: string): void {
  const script = join(root, DOCS_SCRIPT);
  if (!existsSync(script)) return;
  try {
    execFileSync(process.execPath, [script], { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } });
  } catch (error) {
    logger.warn(`Could not regenerate docs/architecture.md (${(error as Error).message}): run "npm run docs".`);
  }
}

/** Writes the new event's JSON Schema under contracts/ (`npm run contracts`), which the contracts check compares with the code. */
function regenerateContracts(root: string): void {
  const script = join(root, CONTRACTS_SCRIPT);
  if (!existsSync(script)) return;
  try {
    execFileSync(process.execPath, [script], { cwd: root, stdio: 'inherit' });
  } catch (error) {
    logger.warn(`Could not write the event's schema under contracts/ (${(error as Error).message}): run "npm run contracts".`);
  }
}

/**
 * `nx g @modulith/tools:module <name>`: a business module shaped like the reference modules —
 * `libs/<name>/contracts` (command, query, integration event) and `libs/<name>/module` (Nest
 * module, handlers with specs, subscriber, entity, migration, HTTP controller, integration test)
 * — with path aliases in tsconfig.base.json and an entry in apps/api's module catalog.
 *
 * Every check runs before the first write, and Nx writes nothing unless the generator returns,
 * so a bad or taken name leaves the workspace untouched.
 */
export async function moduleGenerator(tree: Tree, options: ModuleGeneratorSchema): Promise<GeneratorCallback> {
  const names = moduleNames(options.name, options.entity);
  const catalog = tree.read(MODULE_CATALOG_FILE, 'utf-8');
  if (catalog === null) throw new ModuleGeneratorError(`${MODULE_CATALOG_FILE} is missing: there is no app to register the module in.`);
  if (!tree.exists(ROOT_TSCONFIG)) throw new ModuleGeneratorError(`${ROOT_TSCONFIG} is missing: there is nowhere to add the path aliases.`);
  const taken = conflicts(tree, names, catalog);
  if (taken.length > 0) {
    throw new ModuleGeneratorError(
      `Module "${names.name}" already exists or clashes with what is there: ${taken.join('; ')}. ` +
        'Choose another name, or remove the old module first. Nothing was written.',
    );
  }
  const registered = registerInCatalog(catalog, { name: names.name, className: `${names.className}Module`, alias: names.aliases.module });

  const description = options.description?.trim() || `Records ${names.entity.pluralFileName.replace(/-/g, ' ')} and reacts to their creation.`;
  const values = templateValues(names, description);
  addProjectConfiguration(tree, names.projects.contracts, libraryProject(names.roots.contracts, ['type:contracts', `scope:${names.name}`]));
  addProjectConfiguration(tree, names.projects.module, libraryProject(names.roots.module, ['type:module', `scope:${names.name}`]));
  generateFiles(tree, join(__dirname, 'files', 'contracts'), names.roots.contracts, values);
  generateFiles(tree, join(__dirname, 'files', 'module'), names.roots.module, values);
  updateJson<TsConfig>(tree, ROOT_TSCONFIG, (tsconfig) => {
    const compilerOptions = (tsconfig.compilerOptions ??= {});
    compilerOptions.paths = sortedPaths({
      ...compilerOptions.paths,
      [names.aliases.module]: [`${names.roots.module}/src/index.ts`],
      [names.aliases.contracts]: [`${names.roots.contracts}/src/index.ts`],
    });
    return tsconfig;
  });
  tree.write(MODULE_CATALOG_FILE, registered);
  const deploymentWarnings = addToCoreGroup(tree, names.name);

  return () => {
    if (!options.skipDocs) regenerateDocs(tree.root);
    if (!options.skipDocs) regenerateContracts(tree.root);
    for (const warning of deploymentWarnings) logger.warn(warning);
    logger.info(
      [
        `Module "${names.name}": schema "${names.schema}", POST /${names.name} and GET /${names.name}/:id, registered in ${MODULE_CATALOG_FILE} and the core deployment group.`,
        `Check it:  npx nx run-many -t lint typecheck test test-int build -p ${names.projects.module} ${names.projects.contracts} api`,
      ].join('\n'),
    );
  };
}

export default moduleGenerator;

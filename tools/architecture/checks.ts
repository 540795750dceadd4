import { factsOf } from './source-facts';
import { HOLE_END, HOLE_START, qualifiedNames, setsSearchPath } from './sql-names';
import { isTestSource, tagValue, type ProjectInfo, type SourceFile, type WorkspaceModel } from './workspace-model';

/**
 * The architecture rules of ../../shared/DESIGN.md as pure functions over a WorkspaceModel, in
 * the spirit of Spring Modulith's `verify()`. Each returns the violations it finds as messages
 * (empty: the rule holds), so a test can feed it a planted violation and read the message.
 */

export const PROJECT_TYPES = ['app', 'module', 'contracts', 'platform', 'tool', 'testing'] as const;

/**
 * What each project type may depend on (DESIGN.md, "Boundaries"; the same matrix as
 * eslint.config.mjs). `testing` is the test kit: below everything, used only by test files (a
 * file rule in eslint.config.mjs keeps it out of production code).
 */
export const ALLOWED_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  app: ['module', 'contracts', 'platform', 'testing'],
  module: ['contracts', 'platform', 'testing'],
  contracts: ['platform'],
  platform: ['platform', 'testing'],
  tool: ['tool', 'platform', 'testing'],
  testing: ['testing'],
};

/** Every project has exactly one `type:` tag from PROJECT_TYPES and exactly one `scope:` tag. */
export function checkTags(projects: readonly ProjectInfo[]): string[] {
  return projects.flatMap((project) => {
    const problems: string[] = [];
    const types = project.tags.filter((tag) => tag.startsWith('type:'));
    const scopes = project.tags.filter((tag) => tag.startsWith('scope:'));
    const expected = PROJECT_TYPES.map((type) => `type:${type}`).join(', ');
    if (types.length === 0) problems.push(`project "${project.name}" (${project.root}) has no type: tag; give it one of ${expected}`);
    else if (types.length > 1) problems.push(`project "${project.name}" (${project.root}) has several type: tags (${types.join(', ')}); keep one`);
    else if (!(PROJECT_TYPES as readonly string[]).includes(types[0].slice(5))) {
      problems.push(`project "${project.name}" (${project.root}) has unknown tag ${types[0]}; use one of ${expected}`);
    }
    if (scopes.length === 0) problems.push(`project "${project.name}" (${project.root}) has no scope: tag`);
    else if (scopes.length > 1) problems.push(`project "${project.name}" (${project.root}) has several scope: tags (${scopes.join(', ')}); keep one`);
    return problems;
  });
}

/** The project graph is acyclic. Each cycle is reported once, as a path starting at its smallest name. */
export function checkCycles(projects: readonly ProjectInfo[]): string[] {
  const byName = new Map(projects.map((project) => [project.name, project]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  // Tarjan's strongly connected components: every component of more than one project (or a
  // project depending on itself) is a cycle.
  const connect = (name: string): void => {
    index.set(name, counter);
    low.set(name, counter);
    counter += 1;
    stack.push(name);
    onStack.add(name);
    for (const next of byName.get(name)?.dependencies ?? []) {
      if (!byName.has(next)) continue;
      if (!index.has(next)) {
        connect(next);
        low.set(name, Math.min(low.get(name) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(name, Math.min(low.get(name) as number, index.get(next) as number));
      }
    }
    if (low.get(name) === index.get(name)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== name);
      const selfLoop = component.length === 1 && (byName.get(name)?.dependencies ?? []).includes(name);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const name of [...byName.keys()].sort()) if (!index.has(name)) connect(name);

  return components
    .map((component) => {
      const members = new Set(component);
      const start = [...component].sort()[0];
      const path = shortestCycle(start, members, byName);
      return `dependency cycle: ${path.join(' → ')}`;
    })
    .sort();
}

function shortestCycle(start: string, members: ReadonlySet<string>, byName: ReadonlyMap<string, ProjectInfo>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    for (const next of [...(byName.get(current)?.dependencies ?? [])].sort()) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let step: string | undefined = current; step !== undefined && step !== start; step = previous.get(step)) path.splice(1, 0, step);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, current);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/** No `type:module` project depends on another `type:module` project: modules talk through contracts and events. */
export function checkModuleDependencies(projects: readonly ProjectInfo[]): string[] {
  const typeOf = new Map(projects.map((project) => [project.name, tagValue(project, 'type')]));
  return projects
    .filter((project) => typeOf.get(project.name) === 'module')
    .flatMap((project) =>
      project.dependencies
        .filter((target) => target !== project.name && typeOf.get(target) === 'module')
        .map(
          (target) =>
            `module "${project.name}" depends on module "${target}": a module may use another module only through its contracts (commands, queries, integration events)`,
        ),
    );
}

/** Every dependency follows ALLOWED_DEPENDENCIES by type (module → module is reported by checkModuleDependencies). */
export function checkLayers(projects: readonly ProjectInfo[], allowed: Readonly<Record<string, readonly string[]>> = ALLOWED_DEPENDENCIES): string[] {
  const typeOf = new Map(projects.map((project) => [project.name, tagValue(project, 'type')]));
  return projects.flatMap((project) => {
    const type = typeOf.get(project.name);
    if (!type || !allowed[type]) return [];
    return project.dependencies
      .filter((target) => target !== project.name)
      .filter((target) => !(type === 'module' && typeOf.get(target) === 'module'))
      .filter((target) => !allowed[type].includes(typeOf.get(target) ?? ''))
      .map(
        (target) =>
          `${type} "${project.name}" depends on ${typeOf.get(target) ?? 'untyped'} "${target}": a ${type} may depend only on ${allowed[type].join(', ')}`,
      );
  });
}

/** Which scope owns each schema: the scope of the project whose production code declares it with `defineModule`. */
export function schemaOwners(model: Pick<WorkspaceModel, 'projects' | 'files'>): Map<string, Set<string>> {
  const scopeOf = new Map(model.projects.map((project) => [project.name, tagValue(project, 'scope') ?? project.name]));
  const owners = new Map<string, Set<string>>();
  for (const file of model.files) {
    if (isTestSource(file.path)) continue;
    for (const { value } of factsOf(file.path, file.text).declaredSchemas) {
      const scopes = owners.get(value) ?? new Set<string>();
      scopes.add(scopeOf.get(file.project) ?? file.project);
      owners.set(value, scopes);
    }
  }
  return owners;
}

/**
 * Foreign schemas a piece of SQL names (see `qualifiedNames` for how PostgreSQL's spellings are
 * read), sorted. Kebab-case after the dot (`ingestion.transfer-ingested`, an event type) is not SQL.
 */
export function schemaReferences(sql: string, schemas: Iterable<string>): string[] {
  const wanted = new Set(schemas);
  return [...new Set(qualifiedNames(sql).filter((name) => !name.computed && wanted.has(name.schema)).map((name) => name.schema))].sort();
}

/**
 * A module's code (its module and contracts projects) names no schema but its own: not in SQL
 * strings (entities, migrations, raw queries), not as `schema: '...'` (entities,
 * `MessagingModule.forModule`), not in `inboxMigration('...')`. A module's own schema is what its
 * `defineModule({ schema })` declares. `messaging` belongs to the platform (outbox, retries,
 * dead letters): production code reaches it only through `Outbox`. Tests are held to SQL only:
 * they may read the outbox to assert what was appended, and may declare stand-ins for other
 * modules (`MessagingModule.forModule(defineModule({ name: 'ingestion', schema: false }))`), but no SQL
 * of theirs names another module's schema. Each subscribing module's inbox lives in its own schema
 * (the platform adds it there), so the inbox counts as the module's own. A schema declared by two
 * scopes is reported too.
 */
export function checkSchemaOwnership(model: Pick<WorkspaceModel, 'projects' | 'files'>): string[] {
  const owners = schemaOwners(model);
  const problems: string[] = [];
  for (const [schema, scopes] of [...owners.entries()].sort()) {
    if (scopes.size > 1) problems.push(`schema "${schema}" is declared by more than one scope: ${[...scopes].sort().join(', ')}`);
  }
  const byName = new Map(model.projects.map((project) => [project.name, project]));
  const platformScopes = new Set(
    model.projects.filter((project) => tagValue(project, 'type') === 'platform').map((project) => tagValue(project, 'scope') ?? project.name),
  );
  const ownedByPlatform = (scopes: Set<string>) => [...scopes].every((scope) => platformScopes.has(scope));
  for (const file of model.files) {
    const project = byName.get(file.project);
    if (!project) continue;
    const type = tagValue(project, 'type');
    if (type !== 'module' && type !== 'contracts') continue;
    const scope = tagValue(project, 'scope') ?? project.name;
    const test = isTestSource(file.path);
    // A contracts library is public API: it names no table, not even its own module's.
    const foreign = new Map(
      [...owners]
        .filter(([, scopes]) => (type === 'contracts' || !scopes.has(scope)) && !(test && ownedByPlatform(scopes)))
        .map(([schema, scopes]) => [schema, [...scopes].sort().join(', ')]),
    );
    if (foreign.size === 0) continue;
    const facts = factsOf(file.path, file.text);
    for (const { value, line } of test ? [] : facts.namedSchemas) {
      if (foreign.has(value)) problems.push(`${file.path}:${line}: ${type} "${project.name}" names schema "${value}", which belongs to ${foreign.get(value)}`);
    }
    for (const { value, line } of test ? [] : facts.unresolvedSchemas) {
      problems.push(`${file.path}:${line}: ${type} "${project.name}" places tables in a schema the file does not spell out (${value}): name the module's own schema literally`);
    }
    for (const { value, line } of facts.literals) {
      const at = `${file.path}:${line}: ${type} "${project.name}"`;
      for (const schema of schemaReferences(value, foreign.keys())) {
        problems.push(`${at} has SQL naming schema "${schema}" (${foreign.get(schema)}): ${excerpt(value, schema)}`);
      }
      for (const { schema } of qualifiedNames(value).filter((name) => name.computed)) {
        problems.push(`${at} has SQL whose schema is computed at run time (\${${schema}}): name the module's own schema literally`);
      }
      if (setsSearchPath(value)) problems.push(`${at} has SQL that changes search_path: qualify names with the module's own schema instead`);
    }
  }
  return [...new Set(problems)];
}

function excerpt(sql: string, schema: string): string {
  const at = Math.max(0, sql.toLowerCase().indexOf(schema.toLowerCase()));
  const text = sql.slice(Math.max(0, at - 20), at + 40).replace(/\s+/g, ' ').replace(new RegExp(`[${HOLE_START}${HOLE_END}]`, 'g'), '').trim();
  return `"…${text}…"`;
}

/** eslint.config.mjs enforces ALLOWED_DEPENDENCIES, no more and no less, for every project type. */
export function checkLintRules(rules: WorkspaceModel['lintRules'], allowed: Readonly<Record<string, readonly string[]>> = ALLOWED_DEPENDENCIES): string[] {
  const problems: string[] = [];
  for (const [type, targets] of Object.entries(allowed)) {
    const rule = rules.filter((candidate) => candidate.sourceTag === `type:${type}`);
    const expected = targets.map((target) => `type:${target}`).sort();
    if (rule.length !== 1) {
      problems.push(`eslint.config.mjs: expected one depConstraints entry for type:${type}, found ${rule.length}`);
    } else if ([...rule[0].onlyDependOnLibsWithTags].sort().join() !== expected.join()) {
      problems.push(`eslint.config.mjs: type:${type} may depend on [${[...rule[0].onlyDependOnLibsWithTags].sort().join(', ')}], the design says [${expected.join(', ')}]`);
    }
  }
  return problems;
}

/** Every check, in one list (what `verify()` would throw). */
export function verifyArchitecture(model: WorkspaceModel): string[] {
  return [
    ...checkLintRules(model.lintRules),
    ...checkTags(model.projects),
    ...checkCycles(model.projects),
    ...checkModuleDependencies(model.projects),
    ...checkLayers(model.projects),
    ...checkSchemaOwnership(model),
  ];
}

/** A copy of `model` with `files` replaced or added, for planting violations. */
export function withFiles(model: WorkspaceModel, files: readonly SourceFile[]): WorkspaceModel {
  const paths = new Set(files.map((file) => file.path));
  return { ...model, files: [...model.files.filter((file) => !paths.has(file.path)), ...files] };
}

/** Every name the `module` generator derives from `<name>` (and `--entity`), spelled for each place it goes. */
export interface ModuleNames {
  /** kebab-case: the project, the `MODULES` entry, the HTTP route, the folder under libs/. */
  name: string;
  /** PascalCase: `PaymentsModule`. */
  className: string;
  /** camelCase: `paymentsSchema`. */
  propertyName: string;
  /** The PostgreSQL schema the module owns (snake_case). */
  schema: string;
  /** The thing the example use cases create and read, singular and plural. */
  entity: {
    fileName: string;
    className: string;
    propertyName: string;
    pluralFileName: string;
    pluralClassName: string;
    pluralPropertyName: string;
    /** Table in the module's schema. */
    table: string;
  };
  /** The integration event the command publishes. */
  event: { className: string; fileName: string; type: string };
  projects: { module: string; contracts: string };
  roots: { module: string; contracts: string };
  aliases: { module: string; contracts: string };
}

const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 40;

/**
 * Names a module may not take: the workspace's own folders and roles, the platform libraries and
 * the schema they own, PostgreSQL's own schemas, and top-level routes the app already serves.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'platform',
  'api',
  'app',
  'apps',
  'libs',
  'tools',
  'contracts',
  'module',
  'modules',
  'testing',
  'shared',
  'common',
  'core',
  'database',
  'http',
  'messaging',
  'public',
  'information-schema',
  'health',
  'ready',
  'metrics',
  'ops',
  'console',
  'docs',
  'admin',
  'ws',
]);

/** Thrown for an unusable name; the message says why and what would do. */
export class ModuleNameError extends Error {}

const pascal = (kebab: string) => kebab.split('-').map((part) => part[0].toUpperCase() + part.slice(1)).join('');
const camel = (kebab: string) => pascal(kebab).replace(/^./, (first) => first.toLowerCase());
const snake = (kebab: string) => kebab.replace(/-/g, '_');

/** English plural for the common cases: `payment` → `payments`, `entry` → `entries`, `box` → `boxes`. */
export function pluralize(word: string): string {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

/** The inverse, good enough for a default: `payments` → `payment`, `entries` → `entry`; `status`, `analysis` stay. */
export function singularize(word: string): string {
  if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (/[^siu]s$/.test(word) && word.length > 3) return word.slice(0, -1);
  return word;
}

function assertKebab(value: string, what: string, example: string): void {
  if (!KEBAB.test(value)) {
    throw new ModuleNameError(
      `${what} "${value}" is not kebab-case: use lower-case letters, digits and single hyphens, starting with a letter (e.g. ${example}).`,
    );
  }
}

/** Checks `name` (and `entity`) and derives every spelling; throws ModuleNameError with the reason. */
export function moduleNames(rawName: string, rawEntity?: string): ModuleNames {
  const name = (rawName ?? '').trim();
  if (!name) throw new ModuleNameError('A module needs a name: nx g @modulith/tools:module <name>, e.g. "payments".');
  assertKebab(name, 'Module name', '"payments", "fx-rates"');
  if (name.length > MAX_NAME_LENGTH) {
    throw new ModuleNameError(`Module name "${name}" is longer than ${MAX_NAME_LENGTH} characters: it also names a PostgreSQL schema and its tables.`);
  }
  if (RESERVED_NAMES.has(name) || name.startsWith('platform-')) {
    throw new ModuleNameError(
      `Module name "${name}" is reserved (it names a workspace folder, a platform library, a schema or a route the app already has): choose another name.`,
    );
  }
  if (name.startsWith('pg-') || name === 'pg') {
    throw new ModuleNameError(`Module name "${name}" would make schema "${snake(name)}": PostgreSQL reserves schema names starting with "pg_".`);
  }

  const entityName = (rawEntity ?? '').trim() || singularize(name);
  assertKebab(entityName, 'Entity name', '"payment", "exchange-rate"');
  const plural = pluralize(entityName);
  const event = `${entityName}-created`;
  return {
    name,
    className: pascal(name),
    propertyName: camel(name),
    schema: snake(name),
    entity: {
      fileName: entityName,
      className: pascal(entityName),
      propertyName: camel(entityName),
      pluralFileName: plural,
      pluralClassName: pascal(plural),
      pluralPropertyName: camel(plural),
      table: snake(plural),
    },
    event: { className: pascal(event), fileName: event, type: `${name}.${event}` },
    projects: { module: name, contracts: `${name}-contracts` },
    roots: { module: `libs/${name}/module`, contracts: `libs/${name}/contracts` },
    aliases: { module: `@modulith/${name}`, contracts: `@modulith/${name}/contracts` },
  };
}

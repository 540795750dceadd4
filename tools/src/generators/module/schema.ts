/** Options of `nx g @modulith/tools:module` (see schema.json). */
export interface ModuleGeneratorSchema {
  /** kebab-case module name: the project, the `MODULES` entry, the schema, the HTTP route. */
  name: string;
  /** kebab-case singular noun the example use cases create and read; default: `name` made singular. */
  entity?: string;
  /** One sentence for the README: what the module is for. */
  description?: string;
  /** Leave docs/architecture.md as it is (by default it is regenerated after the files are written). */
  skipDocs?: boolean;
}

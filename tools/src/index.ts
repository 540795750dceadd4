/**
 * @modulith/tools — the workspace's Nx plugin: the `module` generator
 * (`nx g @modulith/tools:module <name>`, see generators.json).
 */
export { moduleGenerator, ModuleGeneratorError } from './generators/module/generator';
export type { ModuleGeneratorSchema } from './generators/module/schema';
export { moduleNames, ModuleNameError, RESERVED_NAMES } from './generators/module/names';
export type { ModuleNames } from './generators/module/names';

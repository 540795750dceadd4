/** Where the committed JSON Schemas of integration events live, relative to the workspace root. */
export const CONTRACTS_DIR = 'contracts';

/** `contracts/<event type>/v<version>.schema.json`: one file per event and version, never edited by hand. */
export function contractSnapshotPath(type: string, version: number): string {
  return `${CONTRACTS_DIR}/${type}/v${version}.schema.json`;
}

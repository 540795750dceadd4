/** What a scenario hands back to the runner: tables to print, checks that must hold, raw numbers. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Table {
  caption?: string;
  header: string[];
  rows: string[][];
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** Set when the scenario could not run here (e.g. no Redis transport yet); not a failure. */
  skipped?: string;
  tables: Table[];
  checks: Check[];
  notes: string[];
  /** Raw figures for the JSON report. */
  data: Record<string, unknown>;
}

export type Scenario = () => Promise<ScenarioResult>;

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';

const INSTALL_HINT =
  'promtool was not found: run `bash tools/scripts/install-promtool.sh` (Debian\'s prometheus package, unpacked into ' +
  '~/.cache/modulith/promtool, as .ci/run does), or set PROMTOOL to a promtool binary';

/** `PROMTOOL`, else where tools/scripts/install-promtool.sh puts it, else one on PATH; undefined when none runs. */
export function findPromtool(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const cache = path.join(env['PROMTOOL_DIR'] ?? path.join(env['XDG_CACHE_HOME'] ?? path.join(homedir(), '.cache'), 'modulith', 'promtool'), 'promtool');
  const candidates = [env['PROMTOOL'], existsSync(cache) ? cache : undefined, 'promtool'].filter((entry): entry is string => !!entry);
  return candidates.find((candidate) => spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0);
}

/**
 * `promtool check metrics` on an exposition text: its exit code and what it said (one complaint
 * a line, `name message`). Throws, naming how to install it, when promtool is missing.
 */
export function checkMetrics(text: string): { ok: boolean; complaints: string[] } {
  const promtool = findPromtool();
  if (!promtool) throw new Error(INSTALL_HINT);
  const run = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: Number(process.env['METRICS_TEST_WAIT_MS'] ?? 60_000) });
  if (run.error) throw run.error;
  const complaints = `${run.stdout}\n${run.stderr}`.split('\n').map((line) => line.trim()).filter(Boolean);
  return { ok: run.status === 0, complaints };
}

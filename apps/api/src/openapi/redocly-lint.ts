import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');

/** One problem the linter reported: `error` or `warn`, the rule, where, and what. */
export interface LintProblem {
  severity: string;
  rule: string;
  pointer: string;
  message: string;
}

interface RedoclyJson {
  problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[];
}

/**
 * Lints `document` with `@redocly/cli lint` under the repository's `redocly.yaml` (the
 * recommended rules) and returns every problem, errors and warnings alike. The CLI runs as a
 * separate process, as CI would run it, bounded by `timeoutMs`.
 */
export async function lintOpenApi(document: object, timeoutMs: number): Promise<LintProblem[]> {
  const folder = await mkdtemp(join(tmpdir(), 'openapi-lint-'));
  try {
    const file = join(folder, 'openapi.json');
    await writeFile(file, JSON.stringify(document, null, 2));
    // The CLI exits 1 when it finds errors; its JSON report is on stdout either way.
    const { stdout } = await run(process.execPath, [CLI, 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json'], {
      cwd: folder,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_TELEMETRY: 'off', DO_NOT_TRACK: '1', NO_COLOR: '1' },
    }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      if (!error.stdout) throw new Error(`redocly lint did not run: ${error.message}\n${error.stderr ?? ''}`);
      return { stdout: error.stdout };
    });
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as RedoclyJson;
    return report.problems.map((problem) => ({
      severity: problem.severity,
      rule: problem.ruleId,
      pointer: problem.location[0]?.pointer ?? '',
      message: problem.message,
    }));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

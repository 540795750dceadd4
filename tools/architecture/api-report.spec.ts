import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The API report check (`npm run api:check`, tools/scripts/api-report.mjs) fails when a package's
 * public surface changed and its committed report was not updated, and `api:update` makes it pass
 * again. Shown on a tiny built package in a temporary folder (the script's --root/--projects mode).
 */

const SCRIPT = join(__dirname, '..', 'scripts', 'api-report.mjs');
const PROJECT = 'libs/demo';
const REPORT = `${PROJECT}/api/demo.api.md`;

describe('API report check', () => {
  let root: string;

  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  const report = (...args: string[]) =>
    spawnSync(process.execPath, [SCRIPT, '--root', root, '--projects', PROJECT, ...args], { encoding: 'utf8', timeout: 60_000 });

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'modulith-api-report-'));
    const exports = {
      '.': { types: './index.d.ts', default: './index.js' },
      './testing': { types: './testing.d.ts', default: './testing.js' },
    };
    write(`dist/${PROJECT}/package.json`, JSON.stringify({ name: '@modulith/demo', version: '1.0.0', exports }));
    write(`dist/${PROJECT}/index.d.ts`, 'export declare function greet(name: string): string;\n');
    write(`dist/${PROJECT}/testing.d.ts`, 'export declare const fixture: string;\n');
    const update = report('--update');
    expect(update.status).toBe(0);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes one report per entry point and passes while the surface is unchanged', () => {
    expect(readFileSync(join(root, REPORT), 'utf8')).toContain('export function greet(name: string): string;');
    expect(existsSync(join(root, `${PROJECT}/api/demo-testing.api.md`))).toBe(true);
    const check = report();
    expect(check.status).toBe(0);
    expect(check.stdout).toContain('API reports are current');
  });

  it('fails when the public surface changed without the report, and passes once it is updated', () => {
    const committed = readFileSync(join(root, REPORT), 'utf8');
    write(`dist/${PROJECT}/index.d.ts`, 'export declare function greet(name: string, loud: boolean): string;\n');

    const check = report();
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('@modulith/demo (libs/demo/api/demo.api.md): the public API changed; run npm run api:update');
    expect(readFileSync(join(root, REPORT), 'utf8')).toBe(committed);

    expect(report('--update').status).toBe(0);
    expect(readFileSync(join(root, REPORT), 'utf8')).toContain('greet(name: string, loud: boolean)');
    expect(report().status).toBe(0);
  });

  it('fails on a report whose entry point is gone', () => {
    write(`${PROJECT}/api/demo-removed.api.md`, 'stale\n');
    const check = report();
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('libs/demo/api/demo-removed.api.md: no entry point has this report any more');
    expect(report('--update').status).toBe(0);
    expect(existsSync(join(root, `${PROJECT}/api/demo-removed.api.md`))).toBe(false);
  });
});

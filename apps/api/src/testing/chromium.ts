import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** How to start a headless Chromium: the binary and the flags it needs. */
export interface ChromiumLaunch {
  executablePath: string;
  args: string[];
  /** Where it came from, for the test's log. */
  source: 'CHROMIUM_PATH' | 'system' | '@sparticuz/chromium';
}

const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const SYSTEM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ROOT = path.resolve(__dirname, '../../../..');

/**
 * A Chromium for the browser tests, with no install step: `CHROMIUM_PATH` when set, else the
 * system's Chromium when there is one, else the headless Chromium that the `@sparticuz/chromium`
 * npm package ships (brotli-packed, unpacked to the OS temp folder on first use, a second or two).
 * The package is ES-module-only, so it is asked in a child `node` rather than loaded into Jest.
 * Throws, naming `CHROMIUM_PATH`, when none can be found.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env, systemCandidates: readonly string[] = SYSTEM_CHROMIUM): ChromiumLaunch {
  const configured = env['CHROMIUM_PATH'];
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH names ${configured}, which does not exist`);
    return { executablePath: configured, args: SYSTEM_ARGS, source: 'CHROMIUM_PATH' };
  }
  const system = systemCandidates.find((candidate) => existsSync(candidate));
  if (system) return { executablePath: system, args: SYSTEM_ARGS, source: 'system' };
  try {
    const script = "import c from '@sparticuz/chromium'; console.log(JSON.stringify({ executablePath: await c.executablePath(), args: c.args }));";
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const { executablePath, args } = JSON.parse(out.trim().split('\n').pop() ?? '') as { executablePath: string; args: string[] };
    return { executablePath, args, source: '@sparticuz/chromium' };
  } catch (error) {
    throw new Error(
      `no Chromium for the browser test: none of ${systemCandidates.join(', ') || 'the system paths'} exists and @sparticuz/chromium could not be unpacked ` +
        `(${(error as Error).message.split('\n')[0]}); run \`npm ci\`, or set CHROMIUM_PATH to a Chromium binary`,
    );
  }
}

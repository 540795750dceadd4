import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAppProcess } from './app-process';

// Stand-ins for a built app: plain node scripts that serve /health, never answer, or crash. The
// server's last line is written with a callback before it exits: console.log to a pipe followed by
// process.exit may be lost.
const SERVES = `require('node:http').createServer((req, res) => { res.statusCode = req.url === '/health' ? 200 : 404; res.end(process.env.GREETING); })
  .listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening on ' + process.env.PORT));
process.on('SIGTERM', () => process.stdout.write('stopping\\n', () => process.exit(0)));`;
const CRASHES = `console.error('boom: no DATABASE_URL'); process.exit(3);`;
const SILENT = `setInterval(() => undefined, 1000);`;

describe('startAppProcess', () => {
  let dir: string;
  const script = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'modulith-app-process-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the script on a free port with the env given, waits for /health, captures and logs its output, and stops it', async () => {
    const logFile = join(dir, 'logs', 'app.log');
    const app = await startAppProcess({ main: script('serves.js', SERVES), env: { GREETING: 'hello' }, logFile });
    try {
      expect(app.baseUrl).toBe(`http://127.0.0.1:${app.port}`);
      expect(await (await fetch(`${app.baseUrl}/other`)).text()).toBe('hello');
      expect(app.output()).toContain(`listening on ${app.port}`);
    } finally {
      await app.stop();
    }
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.output()).toContain('stopping');
    expect(readFileSync(logFile, 'utf8')).toContain('stopping');
  });

  it('has the output on disk in the log file once exited resolves, even when file writes queue', async () => {
    const logFile = join(dir, 'logs', 'queued.log');
    const app = await startAppProcess({ main: script('serves-queued.js', SERVES), logFile });
    // Every libuv worker thread busy for a moment (file writes run there): the log's last write
    // waits behind them, as it does on a loaded machine.
    const busy = Array.from({ length: 4 }, () => promisify(pbkdf2)('secret', 'salt', 400_000, 32, 'sha256'));
    try {
      await app.stop();
      await app.exited;
      expect(readFileSync(logFile, 'utf8')).toContain('stopping');
    } finally {
      await Promise.all(busy);
    }
  });

  it('fails with the output when the app exits during start-up', async () => {
    await expect(startAppProcess({ main: script('crashes.js', CRASHES), name: 'crasher' })).rejects.toThrow(/crasher exited \(3\) during start-up:\n.*boom: no DATABASE_URL/s);
  });

  it('fails after the start-up bound and kills an app that never answers', async () => {
    await expect(startAppProcess({ main: script('silent.js', SILENT), name: 'mute', startTimeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms waiting for mute to answer http:\/\/127\.0\.0\.1:\d+\/health/);
  });

  it('names a missing bundle and how to build it', async () => {
    await expect(startAppProcess({ main: join(dir, 'missing.js'), buildHint: 'npx nx run api:build' })).rejects.toThrow(`${join(dir, 'missing.js')} is missing: run "npx nx run api:build" first`);
  });

  it('does not wait for /health when told not to', async () => {
    const app = await startAppProcess({ main: script('silent2.js', SILENT), waitForHealth: false });
    expect(app.child.exitCode).toBeNull();
    await app.stop(1000);
    expect((await app.exited).signal).toBe('SIGTERM');
  });
});

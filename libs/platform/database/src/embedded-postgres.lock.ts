import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { sameFolder } from './embedded-postgres.port';

/** What `postmaster.pid` in a data folder says, and whether it is true. */
export type LockState =
  | { kind: 'none' }
  /** A live PostgreSQL server on this data folder. */
  | { kind: 'running'; pid: number; port?: number }
  /** Left by a server that is gone; `pid` now names another process, or none. */
  | { kind: 'stale'; pid: number; reused: boolean }
  /** A live process that could not be looked at. */
  | { kind: 'unknown'; pid: number };

export function lockFile(dataDir: string): string {
  return path.join(dataDir, 'postmaster.pid');
}

/**
 * Reads `postmaster.pid` (pid, data folder, start time, port, ...). A pid that is alive is
 * only taken for this data folder's server when that process is a PostgreSQL started on this
 * folder: after a reboot or in a restarted container the pid often belongs to someone else.
 */
export function readLock(dataDir: string): LockState {
  let lines: string[];
  try {
    lines = readFileSync(lockFile(dataDir), 'utf8').split('\n');
  } catch {
    return { kind: 'none' };
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return { kind: 'stale', pid, reused: false };
  const args = commandLine(pid);
  if (!args) return { kind: 'unknown', pid };
  if (!isPostgresOn(args, dataDir)) return { kind: 'stale', pid, reused: true };
  const port = Number(lines[3]);
  return { kind: 'running', pid, port: Number.isInteger(port) && port > 0 ? port : undefined };
}

function isPostgresOn(args: string[], dataDir: string): boolean {
  if (!['postgres', 'postmaster'].includes(path.basename(args[0] ?? ''))) return false;
  const at = args.indexOf('-D');
  const folder = at >= 0 ? args[at + 1] : args.find((arg) => arg.startsWith('--pgdata='))?.slice('--pgdata='.length);
  return folder !== undefined && sameFolder(folder, dataDir);
}

/** The process's arguments: from /proc where there is one (Linux), else from `ps`. */
function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    try {
      return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { stdio: 'pipe' }).toString().trim().split(/\s+/);
    } catch {
      return undefined;
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as { code?: string }).code === 'EPERM';
  }
}

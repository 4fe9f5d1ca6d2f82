// Shared test fixtures: temporary directories whose flags are always cleared, mounts, child processes.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach } from 'vitest';

export const ROOT = resolve(__dirname, '..', '..');
export const DIST = join(ROOT, 'dist', 'index.js');

/** chattr/lsattr from e2fsprogs: an oracle independent of the code under test. */
export function lsattr(path: string): string {
  const result = spawnSync('lsattr', ['-d', path], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`lsattr ${path}: ${result.stderr}`);
  return result.stdout.split(/\s+/)[0] ?? '';
}

export function chattr(args: string[]): void {
  const result = spawnSync('chattr', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`chattr ${args.join(' ')}: ${result.stderr}`);
}

/** Clears -a and -i on everything below `dir`, then removes it: a file left +a cannot be deleted. */
export function removeTree(dir: string): void {
  spawnSync('chattr', ['-R', '-f', '-a', '-i', dir]);
  rmSync(dir, { recursive: true, force: true });
}

export function makeTempDir(parent = tmpdir()): string {
  return mkdtempSync(join(parent, 'fsao-test-'));
}

export interface AuditFile {
  readonly dir: string;
  readonly file: string;
}

/** A fresh directory holding audit.log for each test, its flags cleared and removed after it. */
export function useAuditFile(contents = 'x\n'): AuditFile {
  const current = { dir: '', file: '' };
  beforeEach(() => {
    current.dir = makeTempDir();
    current.file = join(current.dir, 'audit.log');
    writeFileSync(current.file, contents);
  });
  afterEach(() => removeTree(current.dir));
  return current;
}

export interface Mount {
  dir: string;
  unmount(): void;
}

export function mount(type: 'tmpfs' | 'ramfs'): Mount {
  const dir = makeTempDir();
  const result = spawnSync('mount', ['-t', type, '-o', 'size=16m', `fsao-${type}`, dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mount -t ${type}: ${result.stderr}`);
  return {
    dir,
    unmount() {
      spawnSync('chattr', ['-R', '-f', '-a', '-i', dir]);
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type ImageType = 'ext4' | 'xfs' | 'btrfs';

// The smallest images each mkfs accepts; they are sparse, so they cost little disk.
const IMAGE_MIB: Record<ImageType, number> = { ext4: 16, xfs: 300, btrfs: 128 };

/** A filesystem of `type` made in a file and loop-mounted. ext4 reserves no blocks for root (-m 0). */
export function mountImage(type: ImageType, sizeMiB = IMAGE_MIB[type]): Mount {
  const base = makeTempDir();
  const image = join(base, `${type}.img`);
  const dir = join(base, 'mnt');
  mkdirSync(dir);
  const run = (command: string, args: string[]): void => {
    const result = spawnSync(command, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  };
  run('truncate', ['-s', `${sizeMiB}M`, image]);
  run(`mkfs.${type}`, type === 'ext4' ? ['-q', '-m', '0', image] : ['-q', '-f', image]);
  run('mount', ['-o', 'loop', image, dir]);
  return {
    dir,
    unmount() {
      spawnSync('chattr', ['-R', '-f', '-a', '-i', dir]);
      // Lazy: a test that failed with a file still open must not leave the mount behind.
      spawnSync('umount', ['-l', dir]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

export interface ChildOptions {
  /** Run without CAP_LINUX_IMMUTABLE, in the effective, inheritable and bounding sets. */
  dropCapability?: boolean;
  env?: Record<string, string>;
  cwd?: string;
  args?: string[];
  /** Flags for node itself, before -e (--input-type=module). */
  nodeOptions?: string[];
  timeoutMs?: number;
}

const DROP_CAPABILITY = ['--inh-caps=-linux_immutable', '--bounding-set=-linux_immutable', '--'];

/** Runs a CommonJS script in a fresh node; the script's stdout is returned with its exit status. */
export function runNode(script: string, options: ChildOptions = {}): SpawnSyncReturns<string> {
  const node = [process.execPath, ...(options.nodeOptions ?? []), '-e', script, '--', ...(options.args ?? [])];
  const [command, ...args] = options.dropCapability ? ['setpriv', ...DROP_CAPABILITY, ...node] : node;
  return spawnSync(command as string, args, {
    encoding: 'utf8',
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 15_000,
  });
}

/** Runs a script that prints one JSON value as its last line, and returns it parsed. */
export function runNodeJson<T>(script: string, options: ChildOptions = {}): T {
  const result = runNode(script, options);
  if (result.status !== 0) {
    throw new Error(`child exited ${result.status} (${result.signal}): ${result.stderr}\n${result.stdout}`);
  }
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}

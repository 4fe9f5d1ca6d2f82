// The log's cross-process lock on every platform the addon builds for (flock; LockFileEx on Windows):
// it excludes other opens and other processes, and never keeps anyone from reading or appending.
import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { platformCapabilities } from '../lib/binding';
import { lockFor } from '../lib/log/lock';

const ROOT = resolve(__dirname, '..');

// Another process, with its own open of the file: tries the lock, then reads the whole file and
// appends a line while the lock is (or is not) held elsewhere.
const OTHER_PROCESS = `
  const fs = require('node:fs');
  const [root, file] = process.argv.slice(1);
  const addon = require(require.resolve('node-gyp-build', { paths: [root] }))(root);
  const fd = fs.openSync(file, 'a+');
  const acquired = addon.lockSync(fd, 1);
  if (acquired) addon.lockSync(fd, 2);
  const before = fs.readFileSync(file, 'utf8');
  fs.writeSync(fd, 'from the other process\\n');
  fs.closeSync(fd);
  console.log(JSON.stringify({ acquired, before }));`;

function otherProcess(file: string): { acquired: boolean; before: string } {
  const result = spawnSync(process.execPath, ['-e', OTHER_PROCESS, '--', ROOT, file], { encoding: 'utf8', timeout: 15_000 });
  if (result.status !== 0) throw new Error(`child exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as { acquired: boolean; before: string };
}

describe('platformCapabilities', () => {
  it('says what this platform can do, in one place', () => {
    const expected = {
      linux: { flagMethod: 'ioctl', flags: true, lock: true, nativeScan: true, nativeEncode: true, nativeMerkle: true },
      darwin: { flagMethod: 'chflags', flags: true, lock: true, nativeScan: true, nativeEncode: true, nativeMerkle: true },
      freebsd: { flagMethod: 'chflags', flags: true, lock: true, nativeScan: true, nativeEncode: true, nativeMerkle: true },
      win32: { flagMethod: 'none', flags: false, lock: true, nativeScan: true, nativeEncode: true, nativeMerkle: true },
    }[process.platform as string];
    expect(platformCapabilities()).toEqual({ ...expected, addonError: null });
  });

  it('FS_APPEND_ONLY_NATIVE_SCAN=0 turns the native scan off, and withholds the scanner', () => {
    const script = `const { loadBinding, platformCapabilities } = require(${JSON.stringify(join(ROOT, 'dist', 'binding.js'))});
      console.log(JSON.stringify({ ...platformCapabilities(), scanner: typeof loadBinding().binding.scanRecords }));`;
    const run = (value: string): Record<string, unknown> => {
      const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, FS_APPEND_ONLY_NATIVE_SCAN: value }, timeout: 15_000 });
      if (result.status !== 0) throw new Error(result.stderr);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    expect(run('0')).toMatchObject({ nativeScan: false, scanner: 'undefined', lock: true, addonError: null });
    expect(run('1')).toMatchObject({ nativeScan: true, scanner: 'function' });
  });
});

describe('the log lock', () => {
  let dir: string;
  let file: string;
  const fds: number[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fsao-lock-'));
    file = join(dir, 'audit.log');
    appendFileSync(file, 'first line\n');
  });
  afterEach(() => {
    for (const fd of fds.splice(0)) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (): number => {
    const fd = openSync(file, 'a+');
    fds.push(fd);
    return fd;
  };

  it('excludes a second open of the file in the same process until released', () => {
    const first = lockFor(open(), file);
    const second = lockFor(open(), file);
    expect(first.tryAcquire()).toBe(true);
    expect(second.tryAcquire()).toBe(false);
    first.release();
    expect(second.tryAcquire()).toBe(true);
    expect(first.tryAcquire()).toBe(false);
    second.release();
    first.acquire();
    first.release();
  });

  it('excludes another process, which can still read and append the whole file meanwhile', () => {
    const fd = open();
    const lock = lockFor(fd, file);
    lock.acquire();
    appendFileSync(fd, 'written under the lock\n');
    expect(otherProcess(file)).toEqual({ acquired: false, before: 'first line\nwritten under the lock\n' });
    lock.release();
    expect(otherProcess(file).acquired).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('first line\nwritten under the lock\nfrom the other process\nfrom the other process\n');
  });

  it('releasing a lock not held is no error, as with flock', () => {
    const lock = lockFor(open(), file);
    expect(() => lock.release()).not.toThrow();
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
  });
});

// macOS: UF_APPEND / UF_IMMUTABLE through fchflags, checked against the kernel and `ls -lO`.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  getFileAttributesSync,
  isAppendOnlySync,
  isImmutableSync,
  platformSupportInfo,
  protectAppendOnly,
  protectAppendOnlySync,
  setImmutableSync,
  clearImmutableSync,
  unprotectAppendOnlySync,
} from '../../lib/index';

const lsFlags = (path: string): string => execFileSync('ls', ['-lOd', path], { encoding: 'utf8' });

describe('chflags on macOS', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fsao-test-'));
    file = join(dir, 'audit.log');
    writeFileSync(file, 'first\n');
  });
  afterEach(() => {
    spawnSync('chflags', ['-R', 'nouappend,nouchg', dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets, reads and clears UF_APPEND; the kernel then refuses overwrites and accepts appends', async () => {
    expect(protectAppendOnlySync(file)).toBe(true);
    expect(lsFlags(file)).toContain('uappnd');
    expect(isAppendOnlySync(file)).toBe(true);
    expect(() => writeFileSync(file, 'overwritten')).toThrow(expect.objectContaining({ code: 'EPERM' }));
    const fd = openSync(file, 'r+');
    try {
      expect(() => writeSync(fd, 'X', 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    } finally {
      closeSync(fd);
    }
    appendFileSync(file, 'second\n');
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\n');
    expect(unprotectAppendOnlySync(file)).toBe(true);
    expect(lsFlags(file)).not.toContain('uappnd');
    await expect(protectAppendOnly(file)).resolves.toBe(true);
  });

  it('sets and clears UF_IMMUTABLE, keeping UF_APPEND', () => {
    protectAppendOnlySync(file);
    expect(setImmutableSync(file)).toBe(true);
    expect(isImmutableSync(file)).toBe(true);
    expect(getFileAttributesSync(file)).toMatchObject({ appendOnly: true, immutable: true, filesystem: 'apfs' });
    expect(clearImmutableSync(file)).toBe(true);
    expect(isAppendOnlySync(file)).toBe(true);
  });

  it('never follows a symlink, and refuses a FIFO at once', () => {
    const link = join(dir, 'link');
    symlinkSync(file, link);
    expect(() => protectAppendOnlySync(link)).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    expect(lsFlags(file)).not.toContain('uappnd');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => protectAppendOnlySync(fifo)).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
  });

  it('platformSupportInfo reports chflags and verifies a directory', () => {
    expect(platformSupportInfo({ path: dir })).toMatchObject({ platform: 'darwin', method: 'chflags', supported: true });
  });
});

// Both flags set, cleared and read through the kernel on ext4 (/tmp here) and on a tmpfs the test mounts.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  clearImmutable,
  clearImmutableSync,
  getFileAttributes,
  getFileAttributesSync,
  isAppendOnly,
  isAppendOnlySync,
  isImmutable,
  isImmutableSync,
  protectAppendOnly,
  protectAppendOnlySync,
  setImmutable,
  setImmutableSync,
  unprotectAppendOnly,
  unprotectAppendOnlySync,
} from '../../lib/index';
import { protectFileDescriptorSync } from '../../lib/attributes';
import { type Mount, chattr, lsattr, makeTempDir, mount, removeTree } from './helpers';

let tmpfs: Mount;
beforeAll(() => {
  tmpfs = mount('tmpfs');
});
afterAll(() => tmpfs.unmount());

const filesystems = [
  { name: 'ext4', parent: () => undefined },
  { name: 'tmpfs', parent: () => tmpfs.dir },
];

describe.each(filesystems)('on $name', ({ name, parent }) => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = makeTempDir(parent());
    file = join(dir, 'audit.log');
    writeFileSync(file, 'first line\n');
  });
  afterEach(() => removeTree(dir));

  it('sets, reads and clears the append-only flag (sync)', () => {
    expect(isAppendOnlySync(file)).toBe(false);
    expect(protectAppendOnlySync(file)).toBe(true);
    expect(lsattr(file)).toContain('a');
    expect(isAppendOnlySync(file)).toBe(true);
    expect(getFileAttributesSync(file)).toMatchObject({ appendOnly: true, immutable: false, filesystem: name });
    expect(unprotectAppendOnlySync(file)).toBe(true);
    expect(lsattr(file)).not.toContain('a');
    expect(isAppendOnlySync(file)).toBe(false);
  });

  it('sets, reads and clears the append-only flag (promise)', async () => {
    await expect(protectAppendOnly(file)).resolves.toBe(true);
    expect(lsattr(file)).toContain('a');
    await expect(isAppendOnly(file)).resolves.toBe(true);
    await expect(getFileAttributes(file)).resolves.toMatchObject({ appendOnly: true, filesystem: name });
    await expect(unprotectAppendOnly(file)).resolves.toBe(true);
    expect(lsattr(file)).not.toContain('a');
    await expect(isAppendOnly(file)).resolves.toBe(false);
  });

  it('sets, reads and clears the immutable flag, sync and promise', async () => {
    expect(setImmutableSync(file)).toBe(true);
    expect(lsattr(file)).toContain('i');
    expect(isImmutableSync(file)).toBe(true);
    expect(isAppendOnlySync(file)).toBe(false);
    expect(clearImmutableSync(file)).toBe(true);
    expect(lsattr(file)).not.toContain('i');

    await expect(setImmutable(file)).resolves.toBe(true);
    await expect(isImmutable(file)).resolves.toBe(true);
    expect(getFileAttributesSync(file)).toMatchObject({ appendOnly: false, immutable: true });
    await expect(clearImmutable(file)).resolves.toBe(true);
    await expect(isImmutable(file)).resolves.toBe(false);
  });

  it('reads flags that chattr set, so it speaks the kernel format', () => {
    chattr(['+a', file]);
    expect(isAppendOnlySync(file)).toBe(true);
    chattr(['-a', '+i', file]);
    expect(isImmutableSync(file)).toBe(true);
    expect(isAppendOnlySync(file)).toBe(false);
    chattr(['-i', file]);
    expect(getFileAttributesSync(file)).toMatchObject({ appendOnly: false, immutable: false });
  });

  it('reports the raw flag word with the append-only bit (FS_APPEND_FL = 0x20)', () => {
    const before = getFileAttributesSync(file).flags;
    protectAppendOnlySync(file);
    expect(getFileAttributesSync(file).flags).toBe(before | 0x20);
    unprotectAppendOnlySync(file);
    expect(getFileAttributesSync(file).flags).toBe(before);
  });

  it('is idempotent: protecting a protected file and clearing a clear one succeed', () => {
    expect(protectAppendOnlySync(file)).toBe(true);
    expect(protectAppendOnlySync(file)).toBe(true);
    expect(unprotectAppendOnlySync(file)).toBe(true);
    expect(unprotectAppendOnlySync(file)).toBe(true);
    expect(clearImmutableSync(file)).toBe(true);
  });

  it('keeps both flags independent of each other', () => {
    protectAppendOnlySync(file);
    setImmutableSync(file);
    expect(lsattr(file)).toMatch(/i.*a|a.*i/);
    clearImmutableSync(file);
    expect(isAppendOnlySync(file)).toBe(true);
    unprotectAppendOnlySync(file);
    expect(getFileAttributesSync(file)).toMatchObject({ appendOnly: false, immutable: false });
  });

  it('works on a directory', () => {
    const sub = join(dir, 'archive');
    mkdirSync(sub);
    expect(protectAppendOnlySync(sub)).toBe(true);
    expect(lsattr(sub)).toContain('a');
    // New entries may still be created in an append-only directory.
    writeFileSync(join(sub, 'new.log'), 'x');
    expect(unprotectAppendOnlySync(sub)).toBe(true);
    expect(isAppendOnlySync(sub)).toBe(false);
  });

  it('accepts a Buffer, a file: URL and a name that is not UTF-8', async () => {
    expect(protectAppendOnlySync(Buffer.from(file))).toBe(true);
    expect(isAppendOnlySync(pathToFileURL(file))).toBe(true);
    await expect(unprotectAppendOnly(pathToFileURL(file))).resolves.toBe(true);

    const latin1 = Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from('.log')]);
    writeFileSync(latin1, 'x');
    expect(protectAppendOnlySync(latin1)).toBe(true);
    expect(isAppendOnlySync(latin1)).toBe(true);
    expect(unprotectAppendOnlySync(latin1)).toBe(true);
  });
});

describe.each(filesystems)('protectFileDescriptorSync on $name', ({ parent }) => {
  let dir: string;
  let file: string;
  const fds: number[] = [];
  beforeEach(() => {
    dir = makeTempDir(parent());
    file = join(dir, 'audit.log');
    writeFileSync(file, 'first line\n');
  });
  afterEach(() => {
    for (const fd of fds.splice(0)) closeSync(fd);
    removeTree(dir);
  });
  const open = (path: string, flags = 'a'): number => {
    const fd = openSync(path, flags);
    fds.push(fd);
    return fd;
  };

  it('sets the flag on the file the fd holds, even after its path was renamed and replaced', () => {
    const fd = open(file);
    renameSync(file, join(dir, 'moved.log'));
    writeFileSync(file, 'an impostor\n');
    expect(protectFileDescriptorSync(fd, file)).toBe(true);
    expect(lsattr(join(dir, 'moved.log'))).toContain('a');
    expect(lsattr(file)).not.toContain('a');
    // Appending through the fd still works; the path-based reader sees the flag on the held file.
    writeSync(fd, 'second line\n');
    expect(readFileSync(join(dir, 'moved.log'), 'utf8')).toBe('first line\nsecond line\n');
    expect(isAppendOnlySync(join(dir, 'moved.log'))).toBe(true);
  });

  it('sets the immutable flag with { immutable: true }, whatever mode the fd was opened in', () => {
    expect(protectFileDescriptorSync(open(file, 'r'), file, { immutable: true, strict: true })).toBe(true);
    expect(lsattr(file)).toContain('i');
    expect(lsattr(file)).not.toContain('a');
  });

  it('is true, and changes nothing, when the flag is already set', () => {
    const fd = open(file);
    expect(protectFileDescriptorSync(fd, file)).toBe(true);
    expect(protectFileDescriptorSync(fd, file)).toBe(true);
    expect(lsattr(file)).toContain('a');
  });

  it('explains a closed fd, naming the path', () => {
    const fd = openSync(file, 'a');
    closeSync(fd);
    let thrown: unknown;
    try {
      protectFileDescriptorSync(fd, file);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'AppendOnlyError', code: 'EBADF', syscall: 'fstat', path: file });
    expect((thrown as Error).message).toBe(
      `EBADF: bad file descriptor, fstat '${file}'. The file descriptor is not open. Pass a descriptor the process holds open.`,
    );
  });

  it('refuses what is not a regular file or directory, and bad arguments, the way the path calls do', () => {
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    expect(() => protectFileDescriptorSync(open(fifo, 'r+'), fifo)).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
    expect(() => protectFileDescriptorSync('3' as never, file)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => protectFileDescriptorSync(-1, file)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => protectFileDescriptorSync(open(file), file, { imutable: true } as never)).toThrow(
      'The "options.imutable" property is not an option (known options are strict, immutable, system).',
    );
    expect(lsattr(file)).not.toContain('a');
  });
});

describe('read-modify-write', () => {
  let dir: string;
  afterEach(() => removeTree(dir));

  it('keeps every other flag of the file (nodump, noatime) through set and clear', () => {
    dir = makeTempDir();
    const file = join(dir, 'flags.log');
    writeFileSync(file, 'x');
    chattr(['+d', '+A', file]);
    protectAppendOnlySync(file);
    setImmutableSync(file);
    expect(lsattr(file)).toMatch(/^(?=.*d)(?=.*A)(?=.*a)(?=.*i)/);
    clearImmutableSync(file);
    unprotectAppendOnlySync(file);
    const after = lsattr(file);
    expect(after).toContain('d');
    expect(after).toContain('A');
    expect(after).not.toMatch(/[ai]/);
  });
});

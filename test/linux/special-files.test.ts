// Paths that are not plain files on a filesystem with flags: each gets a specific error, never a hang.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  AppendOnlyError,
  getFileAttributesSync,
  isAppendOnly,
  isAppendOnlySync,
  isImmutableSync,
  protectAppendOnly,
  protectAppendOnlySync,
  setImmutableSync,
  unprotectAppendOnlySync,
} from '../../lib/index';
import { DIST, type Mount, lsattr, makeTempDir, mount, removeTree, runNodeJson } from './helpers';

function thrown(run: () => unknown): AppendOnlyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppendOnlyError);
    return error as AppendOnlyError;
  }
  throw new Error('expected the call to throw');
}

describe('a filesystem without flags (ramfs)', () => {
  let ramfs: Mount;
  let file: string;
  beforeAll(() => {
    ramfs = mount('ramfs');
    file = join(ramfs.dir, 'audit.log');
    writeFileSync(file, 'x\n');
  });
  afterAll(() => ramfs.unmount());

  it('protectAppendOnly throws ENOTSUP naming ramfs and where to keep the file', async () => {
    const error = thrown(() => protectAppendOnlySync(file));
    expect(error).toMatchObject({ code: 'ENOTSUP', syscall: 'ioctl', path: file });
    expect(error.message).toContain('ramfs');
    expect(error.fix).toContain('ext4');
    await expect(protectAppendOnly(file)).rejects.toMatchObject({ code: 'ENOTSUP', message: expect.stringContaining('ramfs') });
    expect(() => setImmutableSync(file)).toThrow(/ramfs/);
  });

  it('isAppendOnly is false, and getFileAttributes names the filesystem', async () => {
    expect(isAppendOnlySync(file)).toBe(false);
    expect(isImmutableSync(file)).toBe(false);
    await expect(isAppendOnly(file)).resolves.toBe(false);
    expect(getFileAttributesSync(file)).toEqual({ appendOnly: false, immutable: false, flags: 0, filesystem: 'ramfs' });
  });
});

describe('files that are not regular files or directories', () => {
  let dir: string;
  let server: Server | undefined;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(async () => {
    await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    server = undefined;
    removeTree(dir);
  });

  it('a FIFO with no writer: ENOTSUP at once, never a hang', () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // A blocking open of a FIFO never returns and blocks the event loop with it, so the calls run in a
    // child with a hard timeout: a hang fails this test instead of stalling the suite.
    const codes = runNodeJson<string[]>(
      `const api = require(${JSON.stringify(DIST)});
       const codeOf = (run) => { try { run(); return 'none'; } catch (e) { return e.code + ' ' + e.message; } };
       api.protectAppendOnly(process.argv[1]).catch((e) => e.code).then((promised) => console.log(JSON.stringify([
         codeOf(() => api.protectAppendOnlySync(process.argv[1])), codeOf(() => api.isAppendOnlySync(process.argv[1])), promised])));`,
      { args: [fifo], timeoutMs: 5_000 },
    );
    expect(codes[0]).toMatch(/^ENOTSUP .*FIFO/);
    expect(codes[1]).toMatch(/^ENOTSUP /);
    expect(codes[2]).toBe('ENOTSUP');
  });

  it('a character device (/dev/null): ENOTSUP, the ioctl never reaches the driver', () => {
    const error = thrown(() => protectAppendOnlySync('/dev/null'));
    expect(error).toMatchObject({ code: 'ENOTSUP', syscall: 'open', path: '/dev/null' });
    expect(error.message).toContain('character device');
    expect(error.fix).toContain('regular file or directory');
  });

  it('a Unix socket: ENOTSUP', async () => {
    const socket = join(dir, 'audit.sock');
    server = createServer();
    await new Promise<void>((listening) => server!.listen(socket, listening));
    expect(thrown(() => protectAppendOnlySync(socket))).toMatchObject({ code: 'ENOTSUP', syscall: 'open' });
    expect(thrown(() => isAppendOnlySync(socket)).code).toBe('ENOTSUP');
  });

  it('a symlink: ELOOP, never followed, the target untouched', async () => {
    const target = join(dir, 'real.log');
    const link = join(dir, 'link.log');
    writeFileSync(target, 'x');
    symlinkSync(target, link);
    const error = thrown(() => protectAppendOnlySync(link));
    expect(error).toMatchObject({ code: 'ELOOP', path: link });
    expect(error.message).toContain('symbolic link');
    await expect(protectAppendOnly(link)).rejects.toMatchObject({ code: 'ELOOP' });
    expect(() => isAppendOnlySync(link)).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    expect(lsattr(target)).not.toContain('a');
  });

  it('a symlink to a directory: ELOOP as well', () => {
    const sub = mkdirSync(join(dir, 'sub'), { recursive: true })!;
    symlinkSync(sub, join(dir, 'sublink'));
    expect(thrown(() => protectAppendOnlySync(join(dir, 'sublink'))).code).toBe('ELOOP');
    expect(lsattr(sub)).not.toContain('a');
  });

  it('a missing file: ENOENT, sync and promise, nothing created', async () => {
    const missing = join(dir, 'missing.log');
    const error = thrown(() => protectAppendOnlySync(missing));
    expect(error).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'open', path: missing });
    expect(error.message).toMatch(/^ENOENT: no such file or directory, open '.*missing\.log'\. The file does not exist/);
    await expect(isAppendOnly(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => unprotectAppendOnlySync(missing)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a path through a regular file: ENOTDIR', () => {
    writeFileSync(join(dir, 'plain'), 'x');
    expect(thrown(() => protectAppendOnlySync(join(dir, 'plain', 'below'))).code).toBe('ENOTDIR');
  });
});

describe('bad arguments', () => {
  const badPaths: [string, unknown][] = [
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object', { path: '/tmp/x' }],
    ['an array', ['/tmp/x']],
  ];

  it.each(badPaths)('%s as path is a TypeError naming the argument, sync and promise', async (_, value) => {
    expect(() => protectAppendOnlySync(value as string)).toThrow(TypeError);
    expect(() => isAppendOnlySync(value as string)).toThrow(/The "path" argument must be of type string/);
    expect(() => getFileAttributesSync(value as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    // The promise forms reject; they never throw synchronously.
    const pending = protectAppendOnly(value as string);
    await expect(pending).rejects.toBeInstanceOf(TypeError);
    await expect(isAppendOnly(value as string)).rejects.toBeInstanceOf(TypeError);
  });

  it('a NUL byte, an empty path and a non-file URL are TypeErrors', async () => {
    for (const value of ['/tmp/a\0b', Buffer.from('/tmp/a\0b'), '', new URL('https://example.com/x')]) {
      expect(() => protectAppendOnlySync(value)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      await expect(protectAppendOnly(value)).rejects.toBeInstanceOf(TypeError);
    }
  });

  it('options must be an object of booleans', async () => {
    expect(() => protectAppendOnlySync('/tmp', 'strict' as never)).toThrow(/"options" argument must be of type object/);
    expect(() => protectAppendOnlySync('/tmp', { strict: 'yes' } as never)).toThrow(/"options.strict" property must be of type boolean/);
    await expect(protectAppendOnly('/tmp', { system: 1 } as never)).rejects.toThrow(/"options.system"/);
  });
});

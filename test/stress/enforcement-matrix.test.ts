// What the kernel refuses on append-only and immutable files, on every filesystem a test can make here,
// tried by an attacker without CAP_LINUX_IMMUTABLE. Prints the matrix.
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { clearImmutableSync, protectAppendOnlySync, setImmutableSync, unprotectAppendOnlySync } from '../../lib/index';
import { DIST, type Mount, mount, mountImage, runNodeJson } from '../linux/helpers';

const NODE_ATTACKER = readFileSync(join(__dirname, '..', 'linux', 'attacker.js'), 'utf8');
const PYTHON_ATTACKER = join(__dirname, 'attacker.py');
const ORIGINAL = 'seq=1 login alice\nseq=2 export report\n';

type Flag = 'append-only' | 'immutable';
const FILESYSTEMS = ['ext4', 'xfs', 'btrfs', 'tmpfs'] as const;
const FLAGS: Flag[] = ['append-only', 'immutable'];

// ioctl_iflags(2) and the VFS: everything is EPERM but the shared writable mapping (EACCES once an fd is had); with
// immutable, even opening for append is refused, so the mapping never gets that far.
const EXPECTED: Record<Flag, Record<string, string>> = {
  'append-only': {
    overwrite: 'EPERM', openWithoutAppend: 'EPERM', openTruncate: 'EPERM', openAppendTruncate: 'EPERM', truncate: 'EPERM',
    ftruncateOldFd: 'EPERM', punchHole: 'EPERM', sharedMmap: 'EACCES', rename: 'EPERM', renameOver: 'EPERM', unlink: 'EPERM',
    link: 'EPERM', chmod: 'EPERM', chown: 'EPERM', utimes: 'EPERM', setxattr: 'EPERM', clearFlag: 'EPERM',
    append: 'ok', positionedAppend: 'ok',
  },
  immutable: {
    overwrite: 'EPERM', openWithoutAppend: 'EPERM', openTruncate: 'EPERM', openAppendTruncate: 'EPERM', truncate: 'EPERM',
    ftruncateOldFd: 'EPERM', punchHole: 'EPERM', sharedMmap: 'EPERM', rename: 'EPERM', renameOver: 'EPERM', unlink: 'EPERM',
    link: 'EPERM', chmod: 'EPERM', chown: 'EPERM', utimes: 'EPERM', setxattr: 'EPERM', clearFlag: 'EPERM',
    append: 'EPERM', positionedAppend: 'EPERM',
  },
};

const matrix = new Map<string, Record<string, string>>();
const mounts = new Map<string, Mount>();

beforeAll(() => {
  for (const type of FILESYSTEMS) mounts.set(type, type === 'tmpfs' ? mount('tmpfs') : mountImage(type));
});

afterAll(() => {
  for (const mounted of mounts.values()) mounted.unmount();
  const columns = [...matrix.keys()];
  const operations = Object.keys(EXPECTED['append-only']);
  const rows = operations.map((operation) => [operation.padEnd(20), ...columns.map((column) => (matrix.get(column)![operation] ?? '-').padEnd(22))].join(''));
  console.log(['\nKernel enforcement, attacker without CAP_LINUX_IMMUTABLE', ['operation'.padEnd(20), ...columns.map((column) => column.padEnd(22))].join(''), ...rows].join('\n'));
});

// Seen on this kernel: ftruncate() on an fd opened before the immutable flag is refused only by ext4,
// whose setattr checks the flag itself; the VFS checks only append-only there, so xfs, btrfs and
// tmpfs let it truncate. It is the "fds opened before the flag" limit, one step further.
function expected(type: string, flag: Flag): Record<string, string> {
  const old = flag === 'immutable' && type !== 'ext4' ? 'ok' : 'EPERM';
  return { ...EXPECTED[flag], ftruncateOldFd: old };
}

function attack(file: string, flag: Flag): Record<string, string> {
  const byNode = runNodeJson<Record<string, string>>(NODE_ATTACKER, { args: [file], dropCapability: true });
  const python = spawnSync('setpriv', ['--inh-caps=-linux_immutable', '--bounding-set=-linux_immutable', '--', 'python3', PYTHON_ATTACKER, file], { encoding: 'utf8' });
  if (python.status !== 0) throw new Error(python.stderr);
  const clearFlag = runNodeJson<string>(
    `const api = require(${JSON.stringify(DIST)});
     try { api.${flag === 'append-only' ? 'unprotectAppendOnlySync' : 'clearImmutableSync'}(process.argv[1]); console.log('"ok"'); }
     catch (e) { console.log(JSON.stringify(e.code)); }`,
    { args: [file], dropCapability: true },
  );
  return { ...byNode, ...(JSON.parse(python.stdout) as Record<string, string>), clearFlag };
}

describe.each(FILESYSTEMS)('%s', (type) => {
  it.each(FLAGS)('%s: every rewrite through the path is refused and the bytes are unchanged', (flag) => {
    const file = join(mounts.get(type)!.dir, `${flag}.log`);
    writeFileSync(file, ORIGINAL);
    // An fd opened for writing before the flag: it may still write (chattr(1) BUGS), but not truncate.
    const oldFd = openSync(file, 'a');
    try {
      expect(flag === 'append-only' ? protectAppendOnlySync(file) : setImmutableSync(file)).toBe(true);
      const results = attack(file, flag);
      const appended = flag === 'append-only' ? 'appended\ntail\n' : '';
      expect(readFileSync(file, 'utf8')).toBe(ORIGINAL + appended);
      try {
        ftruncateSync(oldFd, 0);
        results.ftruncateOldFd = 'ok';
      } catch (error) {
        results.ftruncateOldFd = (error as NodeJS.ErrnoException).code!;
      }
      matrix.set(`${type} ${flag}`, results);
      expect(results).toEqual(expected(type, flag));
    } finally {
      closeSync(oldFd);
      if (flag === 'append-only') unprotectAppendOnlySync(file);
      else clearImmutableSync(file);
    }
  });
});

describe('ramfs', () => {
  it('keeps no flag: ENOTSUP naming it', () => {
    const ramfs = mount('ramfs');
    try {
      const file = join(ramfs.dir, 'audit.log');
      writeFileSync(file, ORIGINAL);
      expect(() => protectAppendOnlySync(file)).toThrow(expect.objectContaining({ code: 'ENOTSUP', message: expect.stringContaining('ramfs') }));
      matrix.set('ramfs', { clearFlag: 'ENOTSUP' });
    } finally {
      ramfs.unmount();
    }
  });
});

it('an fd opened for writing before the flag keeps writing: the documented limit', () => {
  const tmpfs = mounts.get('tmpfs')!;
  const file = join(tmpfs.dir, 'old-fd.log');
  writeFileSync(file, ORIGINAL);
  const fd = openSync(file, 'r+');
  try {
    protectAppendOnlySync(file);
    writeSync(fd, 'EVIL', 0);
    expect(readFileSync(file, 'utf8').startsWith('EVIL')).toBe(true);
  } finally {
    closeSync(fd);
    unprotectAppendOnlySync(file);
  }
});

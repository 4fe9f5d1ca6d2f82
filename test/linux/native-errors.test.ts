// The addon's errors read like node:fs's own for the same failure: libuv's code, description and errno.
import { openSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { requireBinding } from '../../lib/binding';
import { useAuditFile } from './helpers';

interface Failure {
  message: string;
  code: string;
  errno: number;
  syscall: string;
  path?: string;
}

function failure(run: () => unknown): Failure {
  try {
    run();
  } catch (error) {
    const { message, code, errno, syscall, path } = error as Failure;
    return { message, code, errno, syscall, ...(path !== undefined ? { path } : {}) };
  }
  throw new Error('expected a failure');
}

describe('native errors', () => {
  const audit = useAuditFile();
  const binding = requireBinding();

  it('name the code, description and errno of node:fs, with the syscall and path of the call', () => {
    const link = join(audit.dir, 'link');
    symlinkSync(audit.file, link);
    const paths = {
      ENOENT: join(audit.dir, 'missing'),
      ENOTDIR: join(audit.file, 'below'),
      ENAMETOOLONG: join(audit.dir, 'x'.repeat(300)),
      ELOOP: link,
    };
    for (const [code, path] of Object.entries(paths)) {
      // node:fs opens with O_NOFOLLOW too ('r' plus the constant), so both meet the same failure.
      const node = failure(() => openSync(path, 0x20000 /* O_NOFOLLOW */));
      const ours = failure(() => binding.readAttributesSync(path));
      expect(ours).toEqual(node);
      expect(ours.code).toBe(code);
    }
  });

  it('keep Node\'s wording for a call on an fd: no path', () => {
    expect(failure(() => binding.lockSync(987654, 1))).toEqual({
      message: 'EBADF: bad file descriptor, flock',
      code: 'EBADF',
      errno: -9,
      syscall: 'flock',
    });
    expect(failure(() => binding.changeFlagsFdSync(987654, binding.APPEND_ONLY, true, false))).toMatchObject({
      message: 'EBADF: bad file descriptor, fstat',
      code: 'EBADF',
    });
  });
});
